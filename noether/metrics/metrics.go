package metrics

import (
	"fmt"
	"math"
)

// Shape is the size of an image laid out [C, H, W] row-major: channel,
// then row, then column.
type Shape struct {
	C, H, W int
}

// Len is the number of values an image of shape s holds.
func (s Shape) Len() int { return s.C * s.H * s.W }

// Data ranges for SSIM.
const (
	// UnitRange is the range of images in [0, 1]: the correct one for
	// these frames, and SSIM's default here.
	UnitRange = 1.0
	// ReferenceRange is what the reference code's SSIM used: scikit-image
	// 0.17.2 takes the range of a float32 image from its dtype, (-1, 1),
	// not from the data. Use it to compare with the published numbers,
	// and say so.
	ReferenceRange = 2.0
)

// SSIM constants of scikit-image (Wang et al. 2004's K1, K2) and its
// uniform window.
const (
	ssimK1  = 0.01
	ssimK2  = 0.03
	ssimWin = 7
)

// check validates a pair of images of shape s.
func check(call string, x, y []float32, s Shape) error {
	if s.C < 1 || s.H < 1 || s.W < 1 {
		return fmt.Errorf("metrics: %s: image shape %dx%dx%d: want every side >= 1", call, s.C, s.H, s.W)
	}
	if len(x) != s.Len() || len(y) != s.Len() {
		return fmt.Errorf("metrics: %s: images of %d and %d values for shape %dx%dx%d (%d values)",
			call, len(x), len(y), s.C, s.H, s.W, s.Len())
	}
	return nil
}

// MSE is the mean squared error over all values: the sum of squared
// differences divided by C*H*W.
func MSE(x, y []float32, s Shape) (float64, error) {
	if err := check("MSE", x, y, s); err != nil {
		return 0, err
	}
	return sumSq(x, y) / float64(s.Len()), nil
}

func sumSq(x, y []float32) float64 {
	var sum float64
	for i := range x {
		d := float64(x[i]) - float64(y[i])
		sum += d * d
	}
	return sum
}

// PSNR is the peak signal-to-noise ratio in decibels with data range 1,
// computed per channel, 10 log10(1/MSE_c), then averaged over channels,
// as the reference does (scikit-image's peak_signal_noise_ratio on each
// channel).
//
// A channel that x and y share exactly has MSE 0 and PSNR +Inf, and the
// average is then +Inf too. That is returned as is, as scikit-image does,
// rather than capped at an arbitrary number of decibels that would bias
// any average it enters; a model's predicted frame is never bit-exact in
// practice, and a caller writing JSON must map +Inf itself.
func PSNR(x, y []float32, s Shape) (float64, error) {
	if err := check("PSNR", x, y, s); err != nil {
		return 0, err
	}
	plane := s.H * s.W
	var sum float64
	for c := 0; c < s.C; c++ {
		mse := sumSq(x[c*plane:(c+1)*plane], y[c*plane:(c+1)*plane]) / float64(plane)
		sum += 10 * math.Log10(1/mse)
	}
	return sum / float64(s.C), nil
}

// SSIM is the structural similarity of x and y with data range UnitRange;
// see SSIMWithRange.
func SSIM(x, y []float32, s Shape) (float64, error) {
	return ssim("SSIM", x, y, s, UnitRange)
}

// SSIMWithRange is the structural similarity of x and y as scikit-image
// computes it for float images with gaussian_weights=False (the
// reference's setting), with the given data range L:
//
//   - per channel, on every 7x7 window: the window means mx, my, the
//     sample variances vx, vy and covariance vxy (mean of products minus
//     product of means, times 49/48),
//     S = (2 mx my + C1)(2 vxy + C2) / ((mx² + my² + C1)(vx + vy + C2))
//     with C1 = (0.01 L)², C2 = (0.03 L)²;
//   - the mean of S over the windows centred at least 3 pixels from every
//     edge (scikit-image crops 3 pixels on each side);
//   - the mean over channels.
//
// scikit-image filters with reflected borders, but after its crop every
// window lies inside the image, so the border rule never reaches the
// result and only those windows are computed here. Images must be at
// least 7x7, as scikit-image requires. Sums are in float64.
func SSIMWithRange(x, y []float32, s Shape, dataRange float64) (float64, error) {
	return ssim("SSIMWithRange", x, y, s, dataRange)
}

func ssim(call string, x, y []float32, s Shape, dataRange float64) (float64, error) {
	if err := check(call, x, y, s); err != nil {
		return 0, err
	}
	if s.H < ssimWin || s.W < ssimWin {
		return 0, fmt.Errorf("metrics: %s: image %dx%d is smaller than the %dx%d SSIM window", call, s.H, s.W, ssimWin, ssimWin)
	}
	if !(dataRange > 0) || math.IsInf(dataRange, 0) {
		return 0, fmt.Errorf("metrics: %s: data range %v: want finite and > 0", call, dataRange)
	}
	plane := s.H * s.W
	var sum float64
	for c := 0; c < s.C; c++ {
		sum += ssimPlane(x[c*plane:(c+1)*plane], y[c*plane:(c+1)*plane], s.H, s.W, dataRange)
	}
	return sum / float64(s.C), nil
}

// ssimPlane is one channel's mean SSIM. The window sums are separable:
// first along rows (rs[i][j] sums row i's columns j..j+6), then down the
// columns of those.
func ssimPlane(x, y []float32, h, w int, dataRange float64) float64 {
	const np = ssimWin * ssimWin
	covNorm := float64(np) / float64(np-1)
	c1 := (ssimK1 * dataRange) * (ssimK1 * dataRange)
	c2 := (ssimK2 * dataRange) * (ssimK2 * dataRange)
	ow := w - ssimWin + 1 // windows per row
	// Row sums of x, y, x², y², xy for every row and window column.
	var rs [5][]float64
	for k := range rs {
		rs[k] = make([]float64, h*ow)
	}
	for i := 0; i < h; i++ {
		for j := 0; j < ow; j++ {
			var sx, sy, sxx, syy, sxy float64
			for d := 0; d < ssimWin; d++ {
				a, b := float64(x[i*w+j+d]), float64(y[i*w+j+d])
				sx += a
				sy += b
				sxx += a * a
				syy += b * b
				sxy += a * b
			}
			o := i*ow + j
			rs[0][o], rs[1][o], rs[2][o], rs[3][o], rs[4][o] = sx, sy, sxx, syy, sxy
		}
	}
	var total float64
	n := 0
	for i := 0; i+ssimWin <= h; i++ {
		for j := 0; j < ow; j++ {
			var m [5]float64
			for k := range m {
				for d := 0; d < ssimWin; d++ {
					m[k] += rs[k][(i+d)*ow+j]
				}
				m[k] /= np
			}
			ux, uy, uxx, uyy, uxy := m[0], m[1], m[2], m[3], m[4]
			vx := covNorm * (uxx - ux*ux)
			vy := covNorm * (uyy - uy*uy)
			vxy := covNorm * (uxy - ux*uy)
			a1, a2 := 2*ux*uy+c1, 2*vxy+c2
			b1, b2 := ux*ux+uy*uy+c1, vx+vy+c2
			total += (a1 * a2) / (b1 * b2)
			n++
		}
	}
	return total / float64(n)
}

// Options choose the metrics' conventions; the zero value is the correct
// one for frames in [0, 1].
type Options struct {
	// SSIMRange is SSIM's data range: 0 means UnitRange; ReferenceRange
	// reproduces the reference's numbers.
	SSIMRange float64
}

// Reference is the reference code's convention: SSIM with data range 2.
func Reference() Options { return Options{SSIMRange: ReferenceRange} }

func (o Options) ssimRange() float64 {
	if o.SSIMRange == 0 {
		return UnitRange
	}
	return o.SSIMRange
}

// Scores are one frame's metrics.
type Scores struct {
	MSE, PSNR, SSIM float64
}

// Frame scores prediction y against truth x: MSE, PSNR and SSIM.
func Frame(x, y []float32, s Shape, o Options) (Scores, error) {
	mse, err := MSE(x, y, s)
	if err != nil {
		return Scores{}, err
	}
	psnr, err := PSNR(x, y, s)
	if err != nil {
		return Scores{}, err
	}
	ssim, err := ssim("Frame", x, y, s, o.ssimRange())
	if err != nil {
		return Scores{}, err
	}
	return Scores{MSE: mse, PSNR: psnr, SSIM: ssim}, nil
}

// Video scores a batch of predicted videos against the truth, both laid
// out [T, B, C, H, W] (time-major, as the models produce them): the
// result's [b][t] is frame t of video b, ready for Curves.Add.
func Video(truth, pred []float32, t, b int, s Shape, o Options) ([][]Scores, error) {
	if t < 1 || b < 1 {
		return nil, fmt.Errorf("metrics: Video: %d steps of %d videos: want both >= 1", t, b)
	}
	if n := t * b * s.Len(); len(truth) != n || len(pred) != n {
		return nil, fmt.Errorf("metrics: Video: %d and %d values for [%d, %d, %d, %d, %d] (%d values)",
			len(truth), len(pred), t, b, s.C, s.H, s.W, n)
	}
	out := make([][]Scores, b)
	for j := range out {
		out[j] = make([]Scores, t)
		for i := range out[j] {
			off := (i*b + j) * s.Len()
			sc, err := Frame(truth[off:off+s.Len()], pred[off:off+s.Len()], s, o)
			if err != nil {
				return nil, fmt.Errorf("metrics: Video: step %d, video %d: %w", i, j, err)
			}
			out[j][i] = sc
		}
	}
	return out, nil
}
