// A bump allocator over linear memory. The core allocates at hotlist load only: a matcher
// instance builds (or loads) one snapshot and then matches with the buffers it already has,
// so nothing is ever freed. A new hotlist version gets a new instance.

let top: usize = 0;

/** Allocates `size` bytes aligned to 64 (a cache line); returns 0 when memory cannot grow. */
export function alloc(size: usize): usize {
  if (top == 0) top = (__heap_base + 63) & ~<usize>63;
  const ptr = top;
  const end = ptr + ((size + 63) & ~<usize>63);
  const have = <usize>memory.size() << 16;
  if (end > have) {
    const pages = <i32>((end - have + 0xffff) >> 16);
    if (memory.grow(pages) < 0) return 0;
  }
  top = end;
  return ptr;
}

/** Bytes of linear memory in use by allocations. */
export function usedBytes(): usize {
  return top == 0 ? 0 : top - ((__heap_base + 63) & ~<usize>63);
}
