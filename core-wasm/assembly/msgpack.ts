// Reading msgpack values in linear memory: big-endian words, strings, numbers as msgpackr
// decodes them. Shared by reads.ts (scanning) and records.ts (writing JSON).

@inline export function be16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}

@inline export function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

export function isAscii(s: usize, e: usize): bool {
  for (let p = s; p < e; p++) if (load<u8>(p) > 0x7f) return false;
  return true;
}

/** Length of the string at p, or -1 when it is not a string. */
@inline export function strLen(p: usize): i64 {
  const b = <u32>load<u8>(p);
  if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
  if (b == 0xd9) return load<u8>(p + 1);
  if (b == 0xda) return be16(p + 1);
  if (b == 0xdb) return be32(p + 1);
  return -1;
}

@inline export function strHead(b: u32): usize {
  return b == 0xd9 ? 2 : b == 0xda ? 3 : b == 0xdb ? 5 : 1;
}

@inline export function isNumber(b: u32): bool {
  return b <= 0x7f || b >= 0xe0 || (b >= 0xca && b <= 0xd3);
}

/** The number at p as msgpackr decodes it (64-bit integers as numbers). */
export function numberAt(p: usize): f64 {
  const b = <u32>load<u8>(p);
  if (b <= 0x7f) return <f64>b;
  if (b >= 0xe0) return <f64>(<i32>b - 0x100);
  switch (b) {
    case 0xca: return <f64>reinterpret<f32>(be32(p + 1));
    case 0xcb: return reinterpret<f64>(bswap<u64>(load<u64>(p + 1)));
    case 0xcc: return <f64>load<u8>(p + 1);
    case 0xcd: return <f64>be16(p + 1);
    case 0xce: return <f64>be32(p + 1);
    case 0xcf: return <f64>be32(p + 1) * 4294967296.0 + <f64>be32(p + 5);
    case 0xd0: return <f64>load<i8>(p + 1);
    case 0xd1: return <f64>(<i16>be16(p + 1));
    case 0xd2: return <f64>(<i32>be32(p + 1));
    case 0xd3: return <f64>(<i32>be32(p + 1)) * 4294967296.0 + <f64>be32(p + 5);
    default: return NaN;
  }
}
