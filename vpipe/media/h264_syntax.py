"""H.264 bitstream syntax the own-GOP splice needs: NAL units of MP4 packets, the sequence
parameter set's fields (ITU-T H.264 7.3.2.1 and E.1.1), the ids a PPS carries, SEI payload
types, and the MP4 `avcC` record (ISO/IEC 14496-15 5.3.3) read and written.

Only reading and re-framing: nothing here changes a coded picture.
"""

from __future__ import annotations

from dataclasses import dataclass

# nal_unit_type values (Table 7-1)
NAL_SLICE, NAL_IDR, NAL_SEI, NAL_SPS, NAL_PPS = 1, 5, 6, 7, 8
SEI_RECOVERY_POINT = 6  # payloadType of a recovery point SEI (open-GOP / gradual refresh entry)
# profile_idc values whose SPS carries chroma format, bit depths and scaling matrices
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


class H264SyntaxError(ValueError):
    """A parameter set or record that does not parse as the standard says."""


def unescape(nal: bytes) -> bytes:
    """The NAL unit's RBSP: emulation prevention bytes (00 00 03) removed."""
    if b"\x00\x00\x03" not in nal:
        return nal
    out, zeros = bytearray(), 0
    for b in nal:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise H264SyntaxError("parameter set ends early")
            value = (value << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise H264SyntaxError("exp-Golomb code too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


@dataclass(frozen=True)
class Sps:
    """The fields of a sequence parameter set that decide whether another stream's pictures can
    sit beside this one's (and what an encoder must be told to make them)."""

    sps_id: int
    profile_idc: int
    constraint_flags: int
    level_idc: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    max_num_ref_frames: int
    frame_mbs_only: bool
    width: int  # after cropping
    height: int
    sar: tuple[int, int] | None  # None: not declared
    full_range: bool | None  # None: no video signal type
    colour: tuple[int, int, int] | None  # (primaries, transfer, matrix) as coded; None: not declared
    max_num_reorder_frames: int | None


def parse_sps(nal: bytes) -> Sps:
    """Long on purpose: the SPS syntax is one fixed sequence of fields, read in the standard's
    order (7.3.2.1.1, then the VUI of E.1.1); splitting it would only scatter that order."""
    b = _Bits(unescape(nal[1:]))
    profile, flags, level = b.u(8), b.u(8), b.u(8)
    sps_id = b.ue()
    chroma, depth_y, depth_c = 1, 8, 8
    if profile in _HIGH_PROFILES:
        chroma = b.ue()
        if chroma == 3:
            b.u(1)  # separate_colour_plane_flag
        depth_y, depth_c = b.ue() + 8, b.ue() + 8
        b.u(1)  # qpprime_y_zero_transform_bypass_flag
        if b.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma != 3 else 12):
                if b.u(1):
                    _skip_scaling_list(b, 16 if i < 6 else 64)
    b.ue()  # log2_max_frame_num_minus4
    poc_type = b.ue()
    if poc_type == 0:
        b.ue()
    elif poc_type == 1:
        b.u(1)
        b.se()
        b.se()
        for _ in range(b.ue()):
            b.se()
    refs = b.ue()
    b.u(1)  # gaps_in_frame_num_value_allowed_flag
    mbs_w, map_units_h = b.ue() + 1, b.ue() + 1
    frame_mbs_only = bool(b.u(1))
    if not frame_mbs_only:
        b.u(1)  # mb_adaptive_frame_field_flag
    b.u(1)  # direct_8x8_inference_flag
    crop = (b.ue(), b.ue(), b.ue(), b.ue()) if b.u(1) else (0, 0, 0, 0)
    sub_w, sub_h = (2, 2) if chroma == 1 else ((2, 1) if chroma == 2 else (1, 1))
    unit_x = sub_w if chroma else 1
    unit_y = (sub_h if chroma else 1) * (2 - frame_mbs_only)
    width = mbs_w * 16 - unit_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * map_units_h * 16 - unit_y * (crop[2] + crop[3])
    sar = full_range = colour = reorder = None
    if b.u(1):  # vui_parameters_present_flag
        sar, full_range, colour, reorder = _vui(b)
    return Sps(
        sps_id, profile, flags, level, chroma, depth_y, depth_c, refs, frame_mbs_only, width, height,
        sar, full_range, colour, reorder,
    )  # fmt: skip


# aspect_ratio_idc 1..16 (Table E-1)
_SAR = [(1, 1), (12, 11), (10, 11), (16, 11), (40, 33), (24, 11), (20, 11), (32, 11), (80, 33), (18, 11),
        (15, 11), (64, 33), (160, 99), (4, 3), (3, 2), (2, 1)]  # fmt: skip


def _vui(b: _Bits) -> tuple[tuple[int, int] | None, bool | None, tuple[int, int, int] | None, int | None]:
    sar = full_range = colour = reorder = None
    if b.u(1):  # aspect_ratio_info_present_flag
        idc = b.u(8)
        if idc == 255:
            sar = (b.u(16), b.u(16))
        elif 1 <= idc <= len(_SAR):
            sar = _SAR[idc - 1]
    if b.u(1):  # overscan_info_present_flag
        b.u(1)
    if b.u(1):  # video_signal_type_present_flag
        b.u(3)
        full_range = bool(b.u(1))
        if b.u(1):
            colour = (b.u(8), b.u(8), b.u(8))
    if b.u(1):  # chroma_loc_info_present_flag
        b.ue()
        b.ue()
    if b.u(1):  # timing_info_present_flag
        b.u(32)
        b.u(32)
        b.u(1)
    hrd = False
    for _ in range(2):  # nal, then vcl HRD parameters
        if b.u(1):
            hrd = True
            count = b.ue() + 1
            b.u(4)
            b.u(4)
            for _ in range(count):
                b.ue()
                b.ue()
                b.u(1)
            b.u(20)  # four 5-bit lengths
    if hrd:
        b.u(1)  # low_delay_hrd_flag
    b.u(1)  # pic_struct_present_flag
    if b.u(1):  # bitstream_restriction_flag
        b.u(1)
        for _ in range(4):
            b.ue()
        reorder = b.ue()
        b.ue()  # max_dec_frame_buffering
    return sar, full_range, colour, reorder


def _skip_scaling_list(b: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + b.se() + 256) % 256
        last = nxt if nxt != 0 else last


def pps_ids(nal: bytes) -> tuple[int, int]:
    """(pic_parameter_set_id, seq_parameter_set_id) of a PPS NAL unit."""
    b = _Bits(unescape(nal[1:]))
    return b.ue(), b.ue()


def nal_units(packet: bytes, length_size: int) -> list[bytes]:
    """The NAL units of an MP4 (length-prefixed) packet; [] when it is not framed so."""
    units, i = [], 0
    while i + length_size <= len(packet):
        size = int.from_bytes(packet[i : i + length_size], "big")
        i += length_size
        if size <= 0 or i + size > len(packet):
            return []
        units.append(packet[i : i + size])
        i += size
    return units if i == len(packet) else []


def sei_payload_types(nal: bytes) -> list[int]:
    """payloadType of every SEI message in an SEI NAL unit (7.3.2.3.1)."""
    data, i, types = unescape(nal[1:]), 0, []
    while i < len(data) and not (data[i] == 0x80 and i == len(data) - 1):  # rbsp trailing bits
        kind, i = _sei_number(data, i)
        size, i = _sei_number(data, i)
        if size < 0:
            break
        types.append(kind)
        i += size
    return types


def _sei_number(data: bytes, i: int) -> tuple[int, int]:
    """An SEI payloadType or payloadSize at `i` (0xFF bytes each add 255, then the last byte)
    and the position after it; (-1, len(data)) when the data ends inside it."""
    value = 0
    while i < len(data) and data[i] == 0xFF:
        value, i = value + 255, i + 1
    if i >= len(data):
        return -1, len(data)
    return value + data[i], i + 1


@dataclass(frozen=True)
class Avcc:
    """An AVCDecoderConfigurationRecord: header fields, parameter sets, and whatever follows
    them (the High-profile chroma/bit-depth tail), kept byte for byte."""

    profile: int
    compatibility: int
    level: int
    length_size: int
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    tail: bytes

    def to_bytes(self) -> bytes:
        out = bytearray([1, self.profile, self.compatibility, self.level, 0xFC | (self.length_size - 1)])
        out.append(0xE0 | len(self.sps))
        for nal in self.sps:
            out += len(nal).to_bytes(2, "big") + nal
        out.append(len(self.pps))
        for nal in self.pps:
            out += len(nal).to_bytes(2, "big") + nal
        return bytes(out + self.tail)


def parse_avcc(data: bytes) -> Avcc:
    if len(data) < 7 or data[0] != 1:
        raise H264SyntaxError("not an avcC record")
    i, sets = 6, []
    for count in (data[5] & 31, None):
        if count is None:
            if i >= len(data):
                raise H264SyntaxError("avcC ends before its PPS count")
            count, i = data[i], i + 1
        group = []
        for _ in range(count):
            size = int.from_bytes(data[i : i + 2], "big")
            if i + 2 + size > len(data):
                raise H264SyntaxError("avcC parameter set runs past its end")
            group.append(bytes(data[i + 2 : i + 2 + size]))
            i += 2 + size
        sets.append(tuple(group))
    return Avcc(data[1], data[2], data[3], (data[4] & 3) + 1, sets[0], sets[1], bytes(data[i:]))


def parameter_sets(extradata: bytes) -> list[bytes]:
    """SPS/PPS NAL units of H.264 extradata, avcC (MP4) or Annex B (an encoder's)."""
    if not extradata:
        return []
    if extradata[0] == 1 and len(extradata) > 6:  # avcC
        out, i = [], 6
        for count_at_i in (True, False):
            count = extradata[5] & 31 if count_at_i else extradata[i]
            if not count_at_i:
                i += 1
            for _ in range(count):
                size = int.from_bytes(extradata[i : i + 2], "big")
                out.append(bytes(extradata[i + 2 : i + 2 + size]))
                i += 2 + size
        return out
    return annexb_units(bytes(extradata))


def annexb_units(data: bytes) -> list[bytes]:
    parts = data.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01")
    return [p for p in parts if p]


def length_prefixed(annexb: bytes) -> bytes:
    """Annex B NAL units (start codes, as an encoder emits them) → 4-byte length prefixes (MP4)."""
    out = bytearray()
    for nal in annexb_units(annexb):
        out += len(nal).to_bytes(4, "big") + nal
    return bytes(out)
