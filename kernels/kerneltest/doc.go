// Package kerneltest is the conformance suite every kernels backend
// passes: the CPU reference and Vulkan on any device run the same cases.
//
// A Case is one op at one shape, written against kernels.Backend. For each
// case the suite checks, where they apply:
//
//   - forward: the backend's outputs against the CPU reference, with a
//     named mixed absolute/relative tolerance and a normalized-MSE bound,
//     and that no input was mutated;
//   - vjp: the backward pass against finite differences (gonum diff/fd) of
//     L(x) = <g, f(x)>, the full gradient for small inputs and random
//     directions for large ones;
//   - jvp: the tangent against central differences of the forward;
//   - hvp: the tangent of the backward (forward-over-reverse) against
//     central differences of the backward, and, where a Hessian exists,
//     its symmetry <w, Hv> = <v, Hw>.
//
// Families add cases with Register from an init function; Run runs them
// and returns one Result per check (the selftest command prints these);
// Test wraps Run for go test.
package kerneltest
