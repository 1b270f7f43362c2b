package pendulum_test

import (
	"fmt"

	"github.com/noether-vk/noether-vk/svg/pendulum"
)

// A batch of three training windows, and what one 64x64 frame shows at
// known pixels.
func Example() {
	d, err := pendulum.New(pendulum.DefaultConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := d.Batch(pendulum.Train, []int{0, 17, 42})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d windows, %d training windows in all\n", b.B, d.NumWindows(pendulum.Train))
	fmt.Printf("frames [%d, %d, 3, %d, %d], actions [%d, %d, 1]\n", b.T, b.B, b.H, b.W, len(b.Actions)/b.B, b.B)

	// Upright, no torque: the pixel just below the rod's tip is
	// rod-coloured, the corner white.
	f, err := pendulum.Render(pendulum.Scene{Theta: 0, Torque: 0}, 64, 64)
	if err != nil {
		fmt.Println(err)
		return
	}
	px := func(i, j int) [3]float32 { return [3]float32{f[i*64+j], f[4096+i*64+j], f[2*4096+i*64+j]} }
	fmt.Println("near the tip:", px(18, 31), "corner:", px(0, 0))
	if _, err := d.Batch(pendulum.Train, make([]int, 1000)); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 3 windows, 855 training windows in all
	// frames [30, 3, 3, 64, 64], actions [30, 3, 1]
	// near the tip: [0.8 0.3 0.3] corner: [1 1 1]
	// pendulum: Batch: a batch of 1000 windows is larger than the train split's 855
}
