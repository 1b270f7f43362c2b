package metrics_test

import (
	"fmt"

	"github.com/noether-vk/noether-vk/noether/metrics"
)

// Two 1x8x8 frames that differ by 0.1 in one column: the metrics of one
// frame, with SSIM at the correct data range and the reference's.
func Example() {
	s := metrics.Shape{C: 1, H: 8, W: 8}
	truth := make([]float32, s.Len())
	pred := make([]float32, s.Len())
	for i := range truth {
		truth[i] = float32(i%8) / 8 // a horizontal ramp
		pred[i] = truth[i]
		if i%8 == 3 {
			pred[i] += 0.1
		}
	}
	sc, err := metrics.Frame(truth, pred, s, metrics.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ref, err := metrics.Frame(truth, pred, s, metrics.Reference())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("MSE %.6f  PSNR %.2f dB\n", sc.MSE, sc.PSNR)
	fmt.Printf("SSIM %.4f (data range 1), %.4f (data range 2)\n", sc.SSIM, ref.SSIM)

	var c metrics.Curves
	for _, ep := range [][]metrics.Scores{{sc, sc}, {ref, sc}} {
		if err := c.Add(ep); err != nil {
			fmt.Println(err)
			return
		}
	}
	st := c.SSIM.PerStep()[0]
	fmt.Printf("step 0 SSIM %.4f ± %.4f over %d episodes\n", st.Mean, st.SEM, st.N)
	// Output:
	// MSE 0.001250  PSNR 29.03 dB
	// SSIM 0.9897 (data range 1), 0.9899 (data range 2)
	// step 0 SSIM 0.9898 ± 0.0001 over 2 episodes
}
