// Division by a divisor fixed at launch, without an integer divide:
// llvmpipe runs a vector udiv one lane at a time, and an elementwise
// kernel that splits its index into coordinates spends most of its time
// there. The host passes kernels.divMagic(d) = (m, l); then
//     n / d = (umulhi(n, m) + n) >> l
// exactly for every n < 2^31 (the launchers keep element counts below).
uint fast_div(uint n, uint m, uint l) {
	uint hi, lo;
	umulExtended(n, m, hi, lo);
	return (hi + n) >> l;
}

// packed_shift is shift k of the words holding four 8-bit shifts each
// (kernels.pushDivisors' layout), from word w = the (k / 4)-th.
uint packed_shift(uint w, uint k) { return (w >> (8 * (k % 4))) & 255u; }
