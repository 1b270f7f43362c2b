package pendulum

import "testing"

func BenchmarkRender64(b *testing.B) {
	dst := make([]float32, Channels*64*64)
	for i := 0; b.Loop(); i++ {
		if err := RenderInto(dst, Scene{Theta: float64(i) * 0.1, Torque: -1.5}, 64, 64); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBatch16(b *testing.B) {
	d, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	idx := make([]int, 16)
	for i := range idx {
		idx[i] = i * 50
	}
	for b.Loop() {
		if _, err := d.Batch(Train, idx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(DefaultConfig()); err != nil {
			b.Fatal(err)
		}
	}
}
