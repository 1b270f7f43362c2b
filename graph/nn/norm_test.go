package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/graph/graphtest"
	"github.com/noether-vk/noether-vk/graph/nn"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
)

// TestBatchNormState: in training BatchNorm puts PyTorch's running
// statistics update (momentum 0.1, unbiased batch variance) in
// Context.NewState, which the caller stores between runs; in evaluation it
// normalises with the stored statistics. Host computations, both
// executors.
func TestBatchNormState(t *testing.T) {
	const n, ch, s = 3, 2, 4 // x [n, ch, 2, 2]
	bn := nn.BatchNorm{Channels: ch}
	v := openVulkan(t)
	rng := rand.New(rand.NewPCG(8, 8))
	params := nn.Init(rng, append(bn.Params("bn"), bn.State("bn")...))
	params["bn.weight"], params["bn.bias"] = randVec(rng, ch, 0.5, 1.5, 0), randVec(rng, ch, -1, 1, 0)
	batches := [][]float32{randVec(rng, n*ch*s, -1, 2, 0), randVec(rng, n*ch*s, -2, 1, 0)}

	g := graph.New()
	x := g.Input("x", n, ch, 2, 2)
	nn.Declare(g, append(bn.Params("bn"), bn.State("bn")...))
	train := &nn.Context{Graph: g, Train: true}
	yTrain := bn.Apply(train, "bn", x)
	yEval := bn.Apply(&nn.Context{Graph: g}, "bn", x)
	stateNames := []string{"bn.running_mean", "bn.running_var"}
	outs := []*graph.Node{yEval, train.NewState[stateNames[0]], train.NewState[stateNames[1]], yTrain}

	// The host's running statistics, updated batch by batch.
	rm, rv := f64(params["bn.running_mean"]), f64(params["bn.running_var"])
	for name, e := range executors(t, g, v, params, outs...) {
		stored := map[string][]float32{stateNames[0]: params[stateNames[0]], stateNames[1]: params[stateNames[1]]}
		hostMean, hostVar := append([]float64(nil), rm...), append([]float64(nil), rv...)
		for _, xb := range batches {
			graphtest.SetParams(t, e, stored)
			got := graphtest.Run(t, e, map[string][]float32{"x": xb})
			// Evaluation uses the statistics stored before this run.
			kerneltest.Near(t, name+": evaluation output", got[0], hostNorm(xb, hostMean, hostVar, params, n, ch, s), kerneltest.F32)
			mean, biased := channelStats(xb, n, ch, s)
			kerneltest.Near(t, name+": training output", got[3], hostNorm(xb, mean, biased, params, n, ch, s), kerneltest.F32)
			for c := range ch {
				unbiased := biased[c] * float64(n*s) / float64(n*s-1)
				hostMean[c] = 0.9*hostMean[c] + 0.1*mean[c]
				hostVar[c] = 0.9*hostVar[c] + 0.1*unbiased
			}
			kerneltest.Near(t, name+": new running mean", got[1], f32(hostMean), kerneltest.F32)
			kerneltest.Near(t, name+": new running var", got[2], f32(hostVar), kerneltest.F32)
			stored = map[string][]float32{stateNames[0]: got[1], stateNames[1]: got[2]}
		}
	}
}

// channelStats returns each channel's mean and biased variance over the
// batch and positions of x [n, ch, s].
func channelStats(x []float32, n, ch, s int) (mean, variance []float64) {
	mean, variance = make([]float64, ch), make([]float64, ch)
	for c := range ch {
		var sum, sq float64
		for i := range n {
			for _, v := range x[(i*ch+c)*s : (i*ch+c+1)*s] {
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
		}
		m := sum / float64(n*s)
		mean[c], variance[c] = m, sq/float64(n*s)-m*m
	}
	return mean, variance
}

// hostNorm is (x - mean)/sqrt(var + eps) * weight + bias per channel.
func hostNorm(x []float32, mean, variance []float64, p map[string][]float32, n, ch, s int) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		c := i / s % ch
		y[i] = float32((float64(v)-mean[c])/math.Sqrt(variance[c]+kernels.NormEps)*float64(p["bn.weight"][c]) + float64(p["bn.bias"][c]))
	}
	return y
}
