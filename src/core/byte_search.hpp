// Finding the next interesting byte in a buffer, 16 bytes at a time with SSE2 (every x86-64 CPU has
// it) and a plain loop elsewhere. The stream relay looks at every byte of every event twice (SSE
// line ends, then JSON structure); a byte-at-a-time loop there cost more than the rest of the relay.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace switchyard {

// The first byte in [p, end) equal to one of `Chars`, or `end`.
template <char... Chars>
inline const char* find_any(const char* p, const char* end) {
#if defined(__SSE2__)
  while (end - p >= 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hits = _mm_setzero_si128();
    ((hits = _mm_or_si128(hits, _mm_cmpeq_epi8(block, _mm_set1_epi8(Chars)))), ...);
    if (const int mask = _mm_movemask_epi8(hits)) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (((*p == Chars) || ...)) return p;
  }
  return end;
}

}  // namespace switchyard
