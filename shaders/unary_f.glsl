// unary_f(op, order, alpha, v): the elementwise function op (codes of
// kernels.UnaryOp) or its first or second derivative (order 0, 1, 2) at v;
// alpha is leaky_relu's negative slope. Shared by unary.comp and
// fused.comp, so a function evaluated inside a fused program compiles to
// the same instructions as on its own and gives the same bits. Include
// after activation.glsl.

// The op codes match kernels.UnaryOp.
const uint NEG = 0, SQUARE = 1, SQRT = 2, EXP = 3, LOG = 4, SIN = 5, COS = 6, TANH = 7, SIGMOID = 8,
           RELU = 9, LEAKY_RELU = 10, SOFTPLUS = 11;

float unary_f(uint op, uint order, float alpha, float v) {
	switch (op) {
	case NEG:
		// Written so that neg'' is +0, as before this function was
		// shared: as one chain of selects the compiler made it -0.
		if (order == 2) return 0.0;
		return order == 0 ? -v : -1.0;
	case SQUARE:
		return order == 0 ? v * v : (order == 1 ? 2.0 * v : 2.0);
	case SQRT: {
		float r = sqrt(v);
		return order == 0 ? r : (order == 1 ? 0.5 / r : -0.25 / (v * r));
	}
	case EXP:
		return exp(v);
	case LOG:
		return order == 0 ? log(v) : (order == 1 ? 1.0 / v : -1.0 / (v * v));
	case SIN:
		return order == 0 ? sin(v) : (order == 1 ? cos(v) : -sin(v));
	case COS:
		return order == 0 ? cos(v) : (order == 1 ? -sin(v) : -cos(v));
	case TANH: {
		float t = safe_tanh(v);
		return order == 0 ? t : (order == 1 ? 1.0 - t * t : -2.0 * t * (1.0 - t * t));
	}
	case SIGMOID: {
		float g = sigmoid(v);
		return order == 0 ? g : (order == 1 ? g * (1.0 - g) : g * (1.0 - g) * (1.0 - 2.0 * g));
	}
	case RELU:
		return order == 0 ? max(v, 0.0) : (order == 1 ? (v > 0.0 ? 1.0 : 0.0) : 0.0);
	case LEAKY_RELU:
		return order == 0 ? (v > 0.0 ? v : alpha * v) : (order == 1 ? (v > 0.0 ? 1.0 : alpha) : 0.0);
	case SOFTPLUS: {
		if (order == 0) return max(v, 0.0) + log(1.0 + exp(-abs(v)));
		float g = sigmoid(v);
		return order == 1 ? g : g * (1.0 - g);
	}
	}
	return 0.0;
}
