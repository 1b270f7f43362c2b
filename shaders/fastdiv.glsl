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
