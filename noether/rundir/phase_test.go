package rundir

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/noether-vk/noether-vk/noether"
)

// TestPhaseLossPlot feeds a phase the events of a short training and
// requires its loss plot on disk when the phase ends, for a healthy run, a
// stopped one and one that diverged (whose curve stops before the NaN).
func TestPhaseLossPlot(t *testing.T) {
	for _, tc := range []struct {
		name   string
		losses []float64
		end    noether.Event
	}{
		{"done", []float64{3, 2, 1.5}, noether.DoneEvent{Phase: "p", Epochs: 3}},
		{"stopped", []float64{3, 2}, noether.StopEvent{Phase: "p", Epoch: 2}},
		{"diverged", []float64{3, math.NaN(), math.Inf(1)}, noether.DoneEvent{Phase: "p", Epochs: 3}},
		{"negative", []float64{-1, -2}, noether.DoneEvent{Phase: "p", Epochs: 2}},
		{"small", []float64{0.5, 0.25}, noether.DoneEvent{Phase: "p", Epochs: 2}},
		{"flat", []float64{0.5, 0.5}, noether.DoneEvent{Phase: "p", Epochs: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := OpenPhase(dir, "p", false, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			emit := func(e noether.Event) {
				for _, s := range p.Sinks() {
					if err := s.Handle(e); err != nil {
						t.Fatalf("%T: %v", e, err)
					}
				}
			}
			emit(noether.StartEvent{Phase: "p", Epochs: len(tc.losses), StepsPerEpoch: 1})
			for i, l := range tc.losses {
				emit(noether.EpochEvent{Phase: "p", Epoch: i + 1, Loss: l})
			}
			png0 := filepath.Join(dir, LossPlotName+".png")
			// The first epoch draws at once; later ones wait for the end.
			before, err := os.Stat(png0)
			if err != nil {
				t.Fatalf("no loss plot after the first epoch: %v", err)
			}
			emit(tc.end)
			f, err := os.Open(png0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := png.Decode(f); err != nil {
				t.Fatalf("loss plot: %v", err)
			}
			after, _ := os.Stat(png0)
			if len(tc.losses) > 1 && !after.ModTime().After(before.ModTime()) && after.Size() == before.Size() {
				t.Errorf("the plot was not redrawn when the phase ended")
			}
			if _, err := os.Stat(filepath.Join(dir, LossPlotName+".svg")); err != nil {
				t.Errorf("no SVG: %v", err)
			}
		})
	}
}
