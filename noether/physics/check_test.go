package physics

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/noether"
)

// TestCheck: what Config.Check refuses before anything trains, each
// with a message naming the flag.
func TestCheck(t *testing.T) {
	good := Config{BaselineSteps: 5, BaselineLR: 1e-3, MetaEpochs: 1, MetaLR: 1e-4, EmbedLR: 1e-3, EmbedClip: 1000,
		Inner: noether.Tailoring{Steps: 1, LR: 0.1}, Loss: formulas.MustParse("p^2 - 3*cos(q)")}
	for _, task := range []string{"pendulum", "real-pendulum"} {
		if err := good.Check(task, Methods()...); err != nil {
			t.Errorf("%s: %v", task, err)
		}
	}
	spring := good
	spring.Loss = formulas.MustParse("q^2 + p^2")
	if err := spring.Check("spring", Methods()...); err != nil {
		t.Errorf("spring, q^2 + p^2: %v", err)
	}
	for _, c := range []struct {
		name    string
		edit    func(*Config)
		methods []Method
		want    string
	}{
		{"no method", func(*Config) {}, []Method{}, "no method"},
		{"empty method", func(*Config) {}, []Method{""}, `method ""`},
		{"twice", func(*Config) {}, []Method{Vanilla, Vanilla}, "named twice"},
		{"negative epochs", func(c *Config) { c.MetaEpochs = -3 }, nil, "--epochs -3"},
		{"negative batch", func(c *Config) { c.MetaBatch = -5 }, nil, "--batch -5"},
		{"negative baseline steps", func(c *Config) { c.BaselineSteps = -5 }, nil, "--baseline-steps -5"},
		{"negative inner rate", func(c *Config) { c.Inner.LR = -1 }, nil, "--inner-lr -1"},
		{"infinite meta rate", func(c *Config) { c.MetaLR = float32(math.Inf(1)) }, nil, "--meta-lr +Inf"},
		{"no inner steps", func(c *Config) { c.Inner.Steps = 0 }, nil, "--inner-steps 0"},
		{"adam forward-over-reverse", func(c *Config) { c.Inner.Opt = noether.InnerAdam }, nil, "--meta-grad reverse"},
		{"adapt", func(c *Config) { c.Adapt = "some" }, nil, `--adapt "some"`},
		{"no loss", func(c *Config) { c.Loss = nil }, []Method{Vanilla, Tailor}, "tailor needs a conservation formula"},
		{"unknown variable", func(c *Config) { c.Loss = formulas.MustParse("x^2 + p^2") }, nil, "x is neither q nor p"},
		{"unused parameter", func(c *Config) { c.LossParams = map[string]float64{"c": 1} }, nil, "has no parameter c"},
		{"units", func(c *Config) { c.Loss = formulas.MustParse("q + p") }, nil, "does not agree in units on the pendulum"},
		{"embedding", func(c *Config) { c.EmbedSizes = []int{3, 8} }, nil, "--embedding-sizes"},
	} {
		cfg := good
		c.edit(&cfg)
		methods := c.methods
		if methods == nil {
			methods = Methods()
		}
		if err := cfg.Check("pendulum", methods...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// TestRunPartialResults: a method whose rollouts diverge does not take
// the others with it: Run reports every method, the failed one with its
// error, returns an error, and the plots leave the non-finite values out.
func TestRunPartialResults(t *testing.T) {
	d, err := Pendulum().Generate(GenOptions{Trajectories: 4, Train: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Loss: formulas.MustParse("p^2/0"), Inner: noether.Tailoring{Steps: 1, LR: 0.1}, BaselineSteps: 3, BaselineLR: 1e-3,
		WeightDecay: 1e-4, MetaEpochs: 1, MetaLR: 1e-4, Dir: t.TempDir(), Backend: graph.CPUBackend{}}
	res, err := cfg.Run(d, Vanilla, Tailor)
	if err == nil || len(res) != 2 || res[0].Err != nil || res[1].Err == nil || !strings.Contains(res[1].Err.Error(), "diverged") {
		t.Fatalf("Run: %v; results %v", err, res)
	}
	if !errors.Is(err, res[1].Err) || math.IsNaN(res[0].TestRMSE) {
		t.Errorf("error %v, vanilla's RMSE %v", err, res[0].TestRMSE)
	}
	if err := WritePlots(cfg.Dir, d, res); err != nil {
		t.Fatalf("plots with a diverged method: %v", err)
	}
	for _, name := range plotNames {
		if _, err := os.Stat(filepath.Join(cfg.Dir, name)); err != nil {
			t.Error(err)
		}
	}
}
