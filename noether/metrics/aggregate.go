package metrics

import (
	"fmt"
	"math"
)

// Stat is the mean of N values and its standard error, the sample
// standard deviation (N-1 in the denominator) over sqrt(N). The standard
// error of a single value is reported as 0: N says whether it means
// anything. An infinite value (PSNR of an exact frame) makes Mean
// infinite and SEM NaN.
type Stat struct {
	Mean, SEM float64
	N         int
}

// Summarize returns the mean and standard error of v (the zero Stat for
// no values).
func Summarize(v []float64) Stat {
	n := len(v)
	if n == 0 {
		return Stat{}
	}
	var sum float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(n)
	if n == 1 {
		return Stat{Mean: mean, N: 1}
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return Stat{Mean: mean, SEM: math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n)), N: n}
}

// Curve collects one metric per prediction step for each of a number of
// episodes (test sequences). The zero value is empty; its first Add fixes
// the number of steps.
type Curve struct {
	episodes [][]float64
}

// Add appends one episode's values, one per step.
func (c *Curve) Add(perStep []float64) error {
	if err := c.check("Curve.Add", len(perStep)); err != nil {
		return err
	}
	c.episodes = append(c.episodes, append([]float64(nil), perStep...))
	return nil
}

// check says whether an episode of n steps may be added.
func (c *Curve) check(call string, n int) error {
	if n == 0 {
		return fmt.Errorf("metrics: %s: no steps", call)
	}
	if len(c.episodes) > 0 && n != len(c.episodes[0]) {
		return fmt.Errorf("metrics: %s: %d steps, but the episodes so far have %d", call, n, len(c.episodes[0]))
	}
	return nil
}

// Episodes is the number of episodes added.
func (c *Curve) Episodes() int { return len(c.episodes) }

// PerStep is, for each step, the mean over episodes and its standard
// error: the curve of a Figure 3 plot and its band.
func (c *Curve) PerStep() []Stat {
	if len(c.episodes) == 0 {
		return nil
	}
	out := make([]Stat, len(c.episodes[0]))
	col := make([]float64, len(c.episodes))
	for t := range out {
		for e, ep := range c.episodes {
			col[e] = ep[t]
		}
		out[t] = Summarize(col)
	}
	return out
}

// Mean is the mean over all steps and episodes (every episode has the same
// number of steps, so it is the mean of the episodes' means) with the
// standard error across the episodes' means: the steps of one episode are
// not independent, so they are not counted as separate samples.
func (c *Curve) Mean() Stat {
	means := make([]float64, len(c.episodes))
	for e, ep := range c.episodes {
		var sum float64
		for _, v := range ep {
			sum += v
		}
		means[e] = sum / float64(len(ep))
	}
	return Summarize(means)
}

// Curves are the three metrics' curves over the same episodes.
type Curves struct {
	MSE, PSNR, SSIM Curve
}

// Add appends one episode's scores, one per step (a row of Video's
// result). The three curves always hold the same episodes: a rejected
// episode changes none of them.
func (c *Curves) Add(episode []Scores) error {
	if err := c.MSE.check("Curves.Add", len(episode)); err != nil {
		return err
	}
	mse, psnr, ssim := make([]float64, len(episode)), make([]float64, len(episode)), make([]float64, len(episode))
	for t, s := range episode {
		mse[t], psnr[t], ssim[t] = s.MSE, s.PSNR, s.SSIM
	}
	c.MSE.episodes = append(c.MSE.episodes, mse)
	c.PSNR.episodes = append(c.PSNR.episodes, psnr)
	c.SSIM.episodes = append(c.SSIM.episodes, ssim)
	return nil
}
