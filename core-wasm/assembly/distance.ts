// Levenshtein distance of two packed plates (at most 10 characters each), with an early
// exit once every cell of a row exceeds the bound. Runs only on index candidates.
const A = memory.data(16);
const B = memory.data(16);
const ROW = memory.data(4 * 16);

function unpack(key: u64, out: usize): i32 {
  let n = 0;
  while (n < 10) {
    const c = <u8>((key >> <u64>(n * 6)) & 63);
    if (c == 0) break;
    store<u8>(out + <usize>n, c);
    n++;
  }
  return n;
}

/** Edit distance of a and b, or bound + 1 when it exceeds bound. */
export function boundedDistance(a: u64, b: u64, bound: i32): i32 {
  const la = unpack(a, A);
  const lb = unpack(b, B);
  const diff = la > lb ? la - lb : lb - la;
  if (diff > bound) return bound + 1;
  for (let j = 0; j <= lb; j++) store<i32>(ROW + (<usize>j << 2), j);
  for (let i = 1; i <= la; i++) {
    let diag = load<i32>(ROW);
    store<i32>(ROW, i);
    let rowMin = i;
    const ca = load<u8>(A + <usize>(i - 1));
    for (let j = 1; j <= lb; j++) {
      const up = load<i32>(ROW + (<usize>j << 2));
      const left = load<i32>(ROW + (<usize>(j - 1) << 2));
      let v = diag + (ca == load<u8>(B + <usize>(j - 1)) ? 0 : 1);
      if (up + 1 < v) v = up + 1;
      if (left + 1 < v) v = left + 1;
      store<i32>(ROW + (<usize>j << 2), v);
      diag = up;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > bound) return bound + 1;
  }
  const d = load<i32>(ROW + (<usize>lb << 2));
  return d > bound ? bound + 1 : d;
}
