// Activation functions shared by the unary and LSTM kernels.

// tanh without overflow: the built-in form (e^2x - 1)/(e^2x + 1) is NaN for
// large |x| on some drivers; the rewritten form loses precision near 0.
float safe_tanh(float v) {
	if (abs(v) < 0.5) return tanh(v);
	return sign(v) * (1.0 - 2.0 / (exp(2.0 * abs(v)) + 1.0));
}

float sigmoid(float v) { return 1.0 / (1.0 + exp(-v)); }
