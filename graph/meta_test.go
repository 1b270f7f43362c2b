package graph

import (
	"math/rand/v2"
	"testing"
)

// tinyModel is tanh(x ⊙ w + b) with w, b of shape [3] broadcast over x [4,3].
func tinyModel(g *Graph, x, w, b *Node) *Node { return g.Tanh(g.Add(g.Mul(x, w), b)) }

// TestMetaGradient: one inner step θ' = θ - λ ∇θ L_N(θ, φ), outer loss
// L_T(θ'). Its gradient with respect to θ = (w, b) and the loss's own
// parameters φ is computed two ways, (1) reverse mode through the inner
// update, (2) forward-over-reverse as architecture.md describes (u = ∇θ'
// L_T, then one JVP of ∇(θ,φ) L_N along u), and both are checked against
// finite differences of the outer loss taken through the inner update.
func TestMetaGradient(t *testing.T) {
	const lambda = 0.5
	rng := rand.New(rand.NewPCG(3, 3))
	g := New()
	x, y := g.Input("x", 4, 3), g.Input("y", 4, 3)
	w, b, phi := g.Param("w", 3), g.Param("b", 3), g.Param("phi", 3)

	// Inner (Noether-style) loss with its own parameters φ.
	inner := g.Mean(g.Mul(phi, g.Square(tinyModel(g, x, w, b))))
	gi := g.Grad(inner, w, b)
	w1 := g.Sub(w, g.Scale(gi[0], lambda))
	b1 := g.Sub(b, g.Scale(gi[1], lambda))
	outer := g.Mean(g.Square(g.Sub(tinyModel(g, x, w1, b1), y)))

	// (1) reverse over the whole step.
	rev := g.Grad(outer, w, b, phi)

	// (2) forward-over-reverse: u = dL_T/dθ', then the JVP of
	// (∇w L_N, ∇b L_N, ∇φ L_N) along θ-tangent u gives H u.
	u := g.Grad(outer, w1, b1)
	giAll := g.Grad(inner, w, b, phi)
	hu := g.JVP(giAll, map[*Node]*Node{w: u[0], b: u[1]})
	fwd := []*Node{
		g.Sub(u[0], g.Scale(hu[0], lambda)), // dθ'/dθ = I - λ H_θθ
		g.Sub(u[1], g.Scale(hu[1], lambda)),
		g.Scale(hu[2], -lambda), // dθ'/dφ = -λ H_φθ
	}
	if g.Err() != nil {
		t.Fatal(g.Err())
	}

	params := map[string][]float32{"w": randVec(rng, 3, -1, 1), "b": randVec(rng, 3, -1, 1), "phi": randVec(rng, 3, 0.5, 2)}
	feeds := map[string][]float32{"x": randVec(rng, 12, -1, 1), "y": randVec(rng, 12, -1, 1)}
	prog, err := g.Compile(CompileOptions{}, append(rev, fwd...)...)
	if err != nil {
		t.Fatal(err)
	}
	v := openVulkan(t)
	vkExe, err := prog.OnVulkan(v, VulkanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer vkExe.Close()
	cpu := prog.OnCPU()
	setParams(t, cpu, params)
	setParams(t, vkExe, params)
	want := mustRun(t, cpu, feeds)
	got := mustRun(t, vkExe, feeds)

	outerProg, err := g.Compile(CompileOptions{}, outer)
	if err != nil {
		t.Fatal(err)
	}
	oe := outerProg.OnCPU()
	setParams(t, oe, params)
	for i, name := range []string{"w", "b", "phi"} {
		fd := fdGrad(t, oe, feeds, params, name, 1e-3)
		closeTo(t, "reverse meta-gradient d/d"+name, want[i], fd, 2e-3, 2e-2)
		closeTo(t, "forward-over-reverse meta-gradient d/d"+name, want[3+i], fd, 2e-3, 2e-2)
		closeTo(t, "vulkan reverse d/d"+name, got[i], want[i], 1e-5, 1e-4)
		closeTo(t, "vulkan forward-over-reverse d/d"+name, got[3+i], want[3+i], 1e-5, 1e-4)
	}
}
