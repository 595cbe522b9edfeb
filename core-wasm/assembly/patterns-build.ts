// Building a pattern block (patterns.ts has its format): once per pattern set, off the hot
// path; temporaries are never freed, as in build.ts.
import { alloc } from './memory';
import { insertCount, countsToEnds, takeFromBack, find, SLOT } from './table';
import {
  ANCHOR_END, ANCHOR_FLOAT, ANCHOR_START, FLAG_OCR, KIND_SHIFT, MAX_GRAM, MAX_TOKENS, MODE_SHIFT, OFFSET_SHIFT,
  PATTERN_MAGIC, POST_INDEX_MASK, POST_LEN_SHIFT, PROGRAM, PSTATUS_BAD, PSTATUS_OK, VALID_CODES,
  P_BM_BITS, P_COUNT, P_HEADER, P_KEYS, P_MAGIC, P_N_BI, P_N_QUAD, P_N_TRI, P_N_UNI, P_OFFS, P_OFF_BM, P_OFF_CLASSMAP,
  P_OFF_POST, P_OFF_PROGS, P_OFF_SCAN, P_OFF_TAB, P_PRESENT, P_SCAN, P_SIZE, P_TAB_BITS,
  align, attachPatterns, bitsForKeys, bmBit, hset, presentBit,
} from './patterns';

let bCap: u32 = 0;
let bAdded: u32 = 0;
let bProgs: usize = 0;
const BMAP = memory.data(64);

/** Prepares to receive `n` programs; `classMap` holds 64 bytes (code -> representative). */
export function beginPatterns(n: u32, classMap: usize): bool {
  if (n > POST_INDEX_MASK) return false;
  bCap = n;
  bAdded = 0;
  memory.copy(BMAP, classMap, 64);
  bProgs = alloc((n > 0 ? <usize>n : 1) * PROGRAM);
  return bProgs != 0;
}

function validProgram(p: usize): bool {
  const ntok = <i32>load<u8>(p, 6);
  if (ntok < 1 || ntok > MAX_TOKENS) return false;
  const star = load<u32>(p, 8);
  if ((star >> <u32>(ntok + 1)) != 0) return false;
  const lit = <u32>load<u16>(p, 12);
  if ((lit >> <u32>ntok) != 0) return false;
  for (let i = 0; i < ntok; i++) {
    const m = load<u64>(p + 16 + (<usize>i << 4));
    if (m == 0 || (m & ~VALID_CODES) != 0) return false;
    if (((lit >> <u32>i) & 1) != 0 && popcnt<u64>(m) != 1) return false;
  }
  return true;
}

/** Copies `count` host-packed programs; one status byte each (0 ok, 1 malformed). Returns programs taken. */
export function addPatterns(input: usize, count: u32, status: usize): u32 {
  let i: u32 = 0;
  for (; i < count && bAdded < bCap; i++) {
    const src = input + <usize>i * PROGRAM;
    const dst = bProgs + <usize>bAdded * PROGRAM;
    memory.copy(dst, src, PROGRAM);
    let st = PSTATUS_OK;
    if (!validProgram(dst)) {
      st = PSTATUS_BAD;
      store<u8>(dst, 0, 6); // ntok 0: never matches
    } else {
      // OCR-aware literals: every code of the literal's class, exact code excluded.
      const ocr = (load<u8>(dst, 7) & FLAG_OCR) != 0;
      const ntok = <i32>load<u8>(dst, 6);
      const lit = <u32>load<u16>(dst, 12);
      for (let t = 0; t < ntok; t++) {
        const tp = dst + 16 + (<usize>t << 4);
        let om: u64 = 0;
        if (ocr && ((lit >> <u32>t) & 1) != 0) {
          const c = <u32>ctz<u64>(load<u64>(tp));
          const rep = load<u8>(BMAP + <usize>c);
          for (let k: u32 = 1; k <= 36; k++) {
            if (k != c && load<u8>(BMAP + <usize>k) == rep) om |= <u64>1 << <u64>k;
          }
        }
        store<u64>(tp, om, 8);
      }
    }
    store<u8>(status + <usize>i, st);
    bAdded++;
  }
  return i;
}

// Candidate fragments of one program (longest available length only), into CAND.
const CAND = memory.data(4 * 16);
const OFFS = memory.data(4 * 8);

function candidates(p: usize, cmap: usize): i32 {
  const ntok = <i32>load<u8>(p, 6);
  const star = load<u32>(p, 8);
  const lit = <u32>load<u16>(p, 12);
  const ocr = (load<u8>(p, 7) & FLAG_OCR) != 0;
  for (let L = MAX_GRAM; L >= 1; L--) {
    let nc = 0;
    for (let i = 0; i + L <= ntok; i++) {
      let key: u32 = 0;
      let ok = true;
      for (let j = 0; j < L; j++) {
        const t = i + j;
        if (((lit >> <u32>t) & 1) == 0 || (j > 0 && ((star >> <u32>t) & 1) != 0)) { ok = false; break; }
        let c = <u32>ctz<u64>(load<u64>(p + 16 + (<usize>t << 4)));
        if (ocr) c = <u32>load<u8>(cmap + <usize>c);
        key |= c << <u32>(j * 6);
      }
      if (!ok) continue;
      if (ocr) key |= <u32>1 << KIND_SHIFT;
      // Anchor: no `*` up to the fragment fixes its read position from the start; none
      // after it, from the end. Anchored keys are far more selective than floating ones.
      if ((star & ((<u32>2 << <u32>i) - 1)) == 0) key |= (ANCHOR_START << MODE_SHIFT) | (<u32>i << OFFSET_SHIFT);
      else if ((star >> <u32>(i + L)) == 0) key |= (ANCHOR_END << MODE_SHIFT) | (<u32>(ntok - i - L) << OFFSET_SHIFT);
      store<u32>(CAND + (<usize>nc << 2), key);
      nc++;
    }
    if (nc > 0) return nc;
  }
  return 0;
}

// @ts-ignore: decorator
@inline
function gramLen(key: u32): i32 {
  const k = key & 0xffffff;
  return k >= (<u32>1 << 18) ? 4 : k >= (<u32>1 << 12) ? 3 : k >= (<u32>1 << 6) ? 2 : 1;
}

/** Lays out the pattern block, attaches it and returns its base (0: out of memory). */
export function finishPatterns(): usize {
  const n = bAdded;
  // 1. How many programs offer each candidate fragment (so each picks its rarest).
  const cBits = bitsForKeys(n * 10 + 1);
  const cTab = alloc(<usize>SLOT << cBits);
  const chosen = alloc((n > 0 ? <usize>n : 1) << 2);
  if (cTab == 0 || chosen == 0) return 0;
  memory.fill(cTab, 0, <usize>SLOT << cBits);
  for (let i: u32 = 0; i < n; i++) {
    const nc = candidates(bProgs + <usize>i * PROGRAM, BMAP);
    for (let c = 0; c < nc; c++) insertCount(cTab, cBits, <u64>load<u32>(CAND + (<usize>c << 2)));
  }
  let nIndexed: u32 = 0;
  let nScan: u32 = 0;
  let nQuad: u32 = 0, nTri: u32 = 0, nBi: u32 = 0, nUni: u32 = 0;
  let present: u32 = 0;
  memory.fill(OFFS, 0, 32);
  for (let i: u32 = 0; i < n; i++) {
    const p = bProgs + <usize>i * PROGRAM;
    const nc = candidates(p, BMAP);
    let best: u32 = 0;
    let bestCount: u32 = 0xffffffff;
    for (let c = 0; c < nc; c++) {
      const k = load<u32>(CAND + (<usize>c << 2));
      const cnt = load<u32>(find(cTab, cBits, <u64>k), 12);
      if (cnt < bestCount) { bestCount = cnt; best = k; }
    }
    store<u32>(chosen + (<usize>i << 2), best);
    if (load<u8>(p, 6) == 0) continue; // malformed program: neither indexed nor scanned
    if (best == 0) { nScan++; continue; }
    nIndexed++;
    const L = gramLen(best);
    if (L == 4) nQuad++; else if (L == 3) nTri++; else if (L == 2) nBi++; else nUni++;
    present |= <u32>1 << (presentBit((best >> KIND_SHIFT) & 1, (best >> MODE_SHIFT) & 3) + <u32>L);
    const mode = (best >> MODE_SHIFT) & 3;
    if (mode != ANCHOR_FLOAT) {
      const f = OFFS + (<usize>(((best >> KIND_SHIFT) & 1) * 4 + <u32>L - 1) << 2);
      store<u32>(f, load<u32>(f) | (<u32>1 << ((best >> OFFSET_SHIFT) + (mode == ANCHOR_END ? 16 : 0))));
    }
  }
  // 2. Sizes and one allocation for the whole block.
  const tabBits = bitsForKeys(nIndexed > 0 ? nIndexed : 1);
  let bmBits: u32 = 10;
  while ((<u64>1 << <u64>bmBits) < <u64>nIndexed * 16 && bmBits < 24) bmBits++;
  const offMap = P_HEADER;
  const offProgs = align(offMap + 64);
  const offTab = align(offProgs + <usize>n * PROGRAM);
  const offPost = align(offTab + (<usize>SLOT << tabBits));
  const offBm = align(offPost + (<usize>nIndexed << 2));
  const offScan = align(offBm + ((<usize>1 << bmBits) >> 3));
  const size = align(offScan + (<usize>nScan << 2));
  const b = alloc(size);
  if (b == 0) return 0;
  memory.fill(b, 0, size);
  hset(b, P_MAGIC, PATTERN_MAGIC);
  hset(b, P_COUNT, n);
  hset(b, P_SIZE, <u32>size);
  hset(b, P_OFF_CLASSMAP, <u32>offMap);
  hset(b, P_OFF_PROGS, <u32>offProgs);
  hset(b, P_TAB_BITS, tabBits);
  hset(b, P_OFF_TAB, <u32>offTab);
  hset(b, P_OFF_POST, <u32>offPost);
  hset(b, P_BM_BITS, bmBits);
  hset(b, P_OFF_BM, <u32>offBm);
  hset(b, P_SCAN, nScan);
  hset(b, P_OFF_SCAN, <u32>offScan);
  hset(b, P_PRESENT, present);
  hset(b, P_N_TRI, nTri);
  hset(b, P_N_BI, nBi);
  hset(b, P_N_UNI, nUni);
  hset(b, P_N_QUAD, nQuad);
  memory.copy(b + (<usize>P_OFFS << 2), OFFS, 32);
  memory.copy(b + offMap, BMAP, 64);
  memory.copy(b + offProgs, bProgs, <usize>n * PROGRAM);
  // 3. Fragment table (count, prefix sums, fill from the back), bitmap and scan list.
  const tb = b + offTab;
  const bm = b + offBm;
  let keys: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const k = load<u32>(chosen + (<usize>i << 2));
    if (k == 0 || load<u8>(bProgs + <usize>i * PROGRAM, 6) == 0) continue;
    const s = insertCount(tb, tabBits, <u64>k);
    if (load<u32>(s, 12) == 1) keys++;
    const bit = bmBit(k, bmBits);
    const w = bm + <usize>(bit >> 3);
    store<u8>(w, <u8>(<u32>load<u8>(w) | (<u32>1 << <u32>(bit & 7))));
  }
  hset(b, P_KEYS, keys);
  countsToEnds(tb, <u32>1 << tabBits);
  const post = b + offPost;
  const scan = b + offScan;
  let si: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const k = load<u32>(chosen + (<usize>i << 2));
    if (load<u8>(bProgs + <usize>i * PROGRAM, 6) == 0) continue;
    if (k == 0) {
      store<u32>(scan + (<usize>si << 2), i);
      si++;
      continue;
    }
    const at = takeFromBack(find(tb, tabBits, <u64>k));
    const pp = bProgs + <usize>i * PROGRAM;
    const fixed: u32 = load<u32>(pp, 8) == 0 ? 1 : 0;
    store<u32>(post + (<usize>at << 2), i | (<u32>load<u8>(pp, 6) << POST_LEN_SHIFT) | (fixed << 31));
  }
  attachPatterns(b);
  return b;
}
