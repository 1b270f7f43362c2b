package kernels_test

import (
	"math"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/kernels"
)

// poolNormBackends are the CPU reference and, unless -short, the Vulkan
// backend on the validated test device.
func poolNormBackends(t *testing.T) []kernels.Backend {
	bs := []kernels.Backend{kernels.CPU{}}
	if !testing.Short() {
		bs = append(bs, openVulkan(t))
	}
	return bs
}

// TestPoolNormShapeErrors checks that malformed shapes and arguments are
// errors that name the op and the shape.
func TestPoolNormShapeErrors(t *testing.T) {
	for _, b := range poolNormBackends(t) {
		mp := b.(kernels.MaxPoolBackend)
		up := b.(kernels.UpsampleBackend)
		cc := b.(kernels.ConcatBackend)
		gn := b.(kernels.GroupNormBackend)
		bn := b.(kernels.BatchNormBackend)
		x := make([]float32, 2*3*4*4)
		c3 := make([]float32, 3)
		for _, tc := range []struct {
			name, want string
			err        func() error
		}{
			{"maxpool window larger than input", "maxpool2d: shape [1,1,2,2] k3x3", func() error {
				_, _, err := mp.MaxPool2D(kernels.PoolShape{N: 1, C: 1, H: 2, W: 2, KH: 3, KW: 3}, make([]float32, 4))
				return err
			}},
			{"maxpool wrong length", "maxpool2d: x has 96 elements, want 32", func() error {
				_, _, err := mp.MaxPool2D(kernels.MaxPool2x2(2, 1, 4, 4), x)
				return err
			}},
			{"maxpool argmax length", "maxpool2d: argmax has 1 elements", func() error {
				_, err := mp.MaxPool2DBackward(kernels.MaxPool2x2(2, 3, 4, 4), []int32{0}, make([]float32, 24))
				return err
			}},
			{"upsample zero factor", "upsample_nearest2d: shape [2,3,4,4] x0x2", func() error {
				_, err := up.UpsampleNearest2D(kernels.UpsampleShape{N: 2, C: 3, H: 4, W: 4, FW: 2}, x)
				return err
			}},
			{"concat mismatched parts", "concat: part 1 has shape 2x2x4x4, part 0 2x3x5x4", func() error {
				_, _, err := cc.Concat([][]float32{make([]float32, 120), make([]float32, 64)}, []kernels.Shape{{2, 3, 5, 4}, {2, 2, 4, 4}}, 1)
				return err
			}},
			{"concat bad axis", "concat: axis 4 out of range for shape 2x3x4x4", func() error {
				_, _, err := cc.Concat([][]float32{x}, []kernels.Shape{{2, 3, 4, 4}}, 4)
				return err
			}},
			{"split sizes", "split: sizes [1 1] sum to 2, shape 2x3x4x4 has 3 along axis 1", func() error {
				_, err := cc.Split(x, kernels.Shape{2, 3, 4, 4}, 1, []int{1, 1})
				return err
			}},
			{"group_norm groups", "group_norm: 2 groups do not divide the 3 channels of shape [2,3,16]", func() error {
				_, err := gn.GroupNorm(kernels.NormShape{N: 2, C: 3, S: 16}, 2, x, c3, c3)
				return err
			}},
			{"group_norm weight", "group_norm: weight has 2 elements, want 3 for shape [2,3,16]", func() error {
				_, err := gn.GroupNorm(kernels.NormShape{N: 2, C: 3, S: 16}, 1, x, c3[:2], c3)
				return err
			}},
			{"batch_norm one value per channel", "batch_norm: shape [1,3,1]: training needs more than one value per channel", func() error {
				_, _, _, err := bn.BatchNorm(kernels.NormShape{N: 1, C: 3, S: 1}, kernels.BNConfig{Train: true}, c3, c3, c3, c3, c3)
				return err
			}},
		} {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %s: error %v, want one containing %q", b.Name(), tc.name, err, tc.want)
			}
		}
	}
}

// TestBatchNormRunningStats checks PyTorch's update: the running variance
// takes the unbiased batch variance.
func TestBatchNormRunningStats(t *testing.T) {
	sh := kernels.NormShape{N: 2, C: 1, S: 1}
	for _, b := range poolNormBackends(t) {
		y, rm, rv, err := b.(kernels.BatchNormBackend).BatchNorm(sh, kernels.BNConfig{Train: true, Momentum: 0.1},
			[]float32{1, 3}, []float32{1}, []float32{0}, []float32{0}, []float32{1})
		if err != nil {
			t.Fatal(err)
		}
		// mean 2, biased variance 1, unbiased 2.
		wantY := float32(1 / math.Sqrt(1+kernels.NormEps))
		if math.Abs(float64(y[0]+wantY)) > 1e-6 || math.Abs(float64(y[1]-wantY)) > 1e-6 ||
			math.Abs(float64(rm[0])-0.2) > 1e-6 || math.Abs(float64(rv[0])-1.1) > 1e-6 {
			t.Errorf("%s: y %v, running mean %v, running var %v; want ±%v, 0.2, 1.1", b.Name(), y, rm, rv, wantY)
		}
	}
}

// TestMaxPoolTiesAndFloor checks the argmax rules (the first maximum in
// row-major window order; a NaN wins) and floor mode on odd sizes.
func TestMaxPoolTiesAndFloor(t *testing.T) {
	nan := float32(math.NaN())
	sh := kernels.MaxPool2x2(1, 1, 3, 5) // 1x2 output; the last row and column are dropped
	x := []float32{
		1, 1, 0, nan, 9,
		1, 1, 2, 0, 9,
		9, 9, 9, 9, 9,
	}
	for _, b := range poolNormBackends(t) {
		y, arg, err := b.(kernels.MaxPoolBackend).MaxPool2D(sh, x)
		if err != nil {
			t.Fatal(err)
		}
		if len(y) != 2 || y[0] != 1 || !math.IsNaN(float64(y[1])) || arg[0] != 0 || arg[1] != 3 {
			t.Errorf("%s: y %v arg %v, want [1 NaN] [0 3]", b.Name(), y, arg)
		}
	}
}
