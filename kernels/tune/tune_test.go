package tune_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noether-vk/noether-vk/gpu"
	"github.com/noether-vk/noether-vk/gpu/gputest"
	"github.com/noether-vk/noether-vk/kernels"
	"github.com/noether-vk/noether-vk/kernels/kerneltest"
	"github.com/noether-vk/noether-vk/kernels/tune"
)

var (
	infoA = gpu.Info{Name: "Card A", DriverName: "drv", DriverVersion: "1.2", DriverInfo: "build 7"}
	infoB = gpu.Info{Name: "Card B", DriverName: "drv", DriverVersion: "1.2", DriverInfo: "build 7"}
	wide  = kernels.MatMulParams{Batch: 1, M: 64, N: 48, K: 40}
	tall  = kernels.MatMulParams{Batch: 5, M: 7, N: 12, K: 16, BatchA: true}
	tiled = kernels.MatMulVariant{MatMulTile: kernels.MatMulTile{Rows: 4, Cols: 4, X: 8, Y: 8}, SharedK: 16}
)

// TestCacheRoundTrip: what Merge writes, Load reads back for the same
// device and driver only; a second Merge keeps the other device's entries
// and the shapes it does not name; default choices load as no entry.
func TestCacheRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "tuning.json")
	if tn, warn := tune.Load(path, infoA); tn != nil || warn != "" {
		t.Fatalf("missing cache: got %v, warning %q; want nothing", tn, warn)
	}
	if err := save(path, infoA, map[string]tune.Choice{
		wide.TuneKey(): {Shape: wide.String(), Variant: tiled, DefaultMs: 2, TunedMs: 1},
		tall.TuneKey(): {Shape: tall.String(), Variant: kernels.MatMulVariant{MatMulTile: kernels.DefaultMatMulTile}, Default: true, DefaultMs: 1, TunedMs: 1},
	}); err != nil {
		t.Fatal(err)
	}
	if err := save(path, infoB, map[string]tune.Choice{tall.TuneKey(): {Variant: tiled}}); err != nil {
		t.Fatal(err)
	}
	tn, warn := tune.Load(path, infoA)
	if warn != "" || tn == nil {
		t.Fatalf("got %v, warning %q", tn, warn)
	}
	if got, ok := tn.MatMul[wide.TuneKey()]; !ok || got != tiled || len(tn.MatMul) != 1 {
		t.Errorf("device A: %v, want only %s: %v", tn.MatMul, wide.TuneKey(), tiled)
	}
	tb, _ := tune.Load(path, infoB)
	if tb == nil || tb.MatMul[tall.TuneKey()] != tiled || len(tb.MatMul) != 1 {
		t.Errorf("device B: %v", tb)
	}
	other := infoA
	other.DriverVersion = "1.3"
	if tn, warn := tune.Load(path, other); tn != nil || warn != "" {
		t.Errorf("another driver version: got %v, warning %q; want nothing", tn, warn)
	}
	f, err := tune.Read(path)
	if err != nil || f.Version != tune.Version || len(f.Devices) != 2 {
		t.Fatalf("file: %+v, %v", f, err)
	}
	// Conv forms merge beside the products and load as names.
	data, err := tune.Merge(path, infoA, nil, map[string]tune.ConvChoice{strided.TuneKey(): {Form: kernels.ConvImplicit}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"form": "implicit"`) {
		t.Errorf("the form is not written by name:\n%s", data)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if tn, _ := tune.Load(path, infoA); tn == nil || tn.Conv[strided.TuneKey()] != kernels.ConvImplicit || len(tn.MatMul) != 1 {
		t.Errorf("after merging a conv form: %+v", tn)
	}
}

// TestCacheWarnings: a corrupt or stale cache gives no tuning and one
// line naming the file; the next Merge replaces it.
func TestCacheWarnings(t *testing.T) {
	for name, body := range map[string]string{
		"corrupt": `{"version": 1, "devices": [`,
		"stale":   `{"version": 0, "devices": []}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tuning.json")
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			tn, warn := tune.Load(path, infoA)
			if tn != nil || !strings.Contains(warn, path) || !strings.Contains(warn, name) || strings.Contains(warn, "\n") {
				t.Errorf("got %v, warning %q; want none and one line naming %s as %s", tn, warn, path, name)
			}
			if err := save(path, infoA, map[string]tune.Choice{wide.TuneKey(): {Variant: tiled}}); err != nil {
				t.Fatal(err)
			}
			if tn, warn := tune.Load(path, infoA); tn == nil || warn != "" {
				t.Errorf("after Merge: %v, %q", tn, warn)
			}
		})
	}
}

// TestTunedChoiceUsed: a cache entry for a product makes the backend run
// that variant (the tuning counts the hit), and the result still matches
// the CPU reference; a product without an entry runs the default and is
// recorded as missed.
func TestTunedChoiceUsed(t *testing.T) {
	d := gputest.Open(t)
	path := filepath.Join(t.TempDir(), "tuning.json")
	if err := save(path, d.Info, map[string]tune.Choice{wide.TuneKey(): {Variant: tiled}}); err != nil {
		t.Fatal(err)
	}
	v := kernels.NewVulkan(d)
	var warn string
	if v.Tuning, warn = tune.Load(path, d.Info); v.Tuning == nil || warn != "" {
		t.Fatalf("no tuning loaded (%q)", warn)
	}
	for i, p := range []kernels.MatMulParams{wide, tall} {
		a, b, bias := values(p.ALen(), 1), values(p.BLen(), 2), values(p.N, 3)
		got, err := v.MatMul(p, a, b, bias)
		if err != nil {
			t.Fatal(err)
		}
		want, err := kernels.CPU{}.MatMul(p, a, b, bias)
		if err != nil {
			t.Fatal(err)
		}
		kerneltest.Near(t, p.String(), got, want, kerneltest.F32)
		if hits := v.Tuning.Hits(); hits != 1 {
			t.Errorf("after product %d: %d tuned hits, want 1", i, hits)
		}
	}
	if m := v.Tuning.Missed(); len(m) != 1 || m[0].TuneKey() != tall.TuneKey() {
		t.Errorf("missed %v, want %s", m, tall.TuneKey())
	}
}

// TestRunTiny: tuning two small products finishes, times every
// candidate, rejects none, and keeps the default unless another variant
// was faster by the margin.
func TestRunTiny(t *testing.T) {
	v := kernels.NewVulkan(gputest.Open(t))
	res := tune.Run(v, []kernels.MatMulParams{wide, tall}, tune.Options{Rounds: 2, Confirm: 2})
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if len(r.Rejected) > 0 || r.Candidates != len(v.MatMulCandidates(r.Params)) {
			t.Errorf("%s: %d candidates timed of %d, rejected %v", r.Key, r.Candidates, len(v.MatMulCandidates(r.Params)), r.Rejected)
		}
		c := r.Choice
		if c.Default != (c.Variant == v.DefaultMatMulVariant(r.Params)) || c.TunedMs > c.DefaultMs || c.DefaultMs <= 0 {
			t.Errorf("%s: choice %+v", r.Key, c)
		}
		if !c.Default && c.TunedMs >= 0.97*c.DefaultMs {
			t.Errorf("%s: %v kept at %.3f ms against the default's %.3f", r.Key, c.Variant, c.TunedMs, c.DefaultMs)
		}
	}
}

// values are n deterministic numbers in [-1, 1).
func values(n int, seed int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((i*37+seed*11)%23)/11.5 - 1
	}
	return x
}

// save writes the cache as noether-vk tune does (tune.Merge, then the
// file), making its folder.
func save(path string, info gpu.Info, choices map[string]tune.Choice) error {
	data, err := tune.Merge(path, info, choices, nil)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// strided is a convolution whose forward ConvAuto runs in GEMM form.
var strided = kernels.ConvPrim{Params: kernels.ConvParams{N: 2, C: 8, H: 12, W: 12, K: 16, KH: 4, KW: 4, Stride: 2, Pad: 1}, Pass: kernels.ConvPassForward}

// TestTunedConvFormUsed: a cache entry for a conv pass makes the backend
// run that form (implicit GEMM needs no scratch where the default GEMM
// form does; the hit is counted), the result still matches the CPU
// reference, and the passes without an entry are recorded as missed.
func TestTunedConvFormUsed(t *testing.T) {
	d := gputest.Open(t)
	path := filepath.Join(t.TempDir(), "tuning.json")
	data, err := tune.Merge(path, d.Info, nil, map[string]tune.ConvChoice{strided.TuneKey(): {Form: kernels.ConvImplicit}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	v := kernels.NewVulkan(d)
	p := strided.Params
	if n, err := v.ConvScratch(p, false, kernels.ConvPassForward); err != nil || n == 0 {
		t.Fatalf("untuned: %d floats of scratch (%v), want the GEMM form's", n, err)
	}
	var warn string
	if v.Tuning, warn = tune.Load(path, d.Info); v.Tuning == nil || warn != "" {
		t.Fatalf("no tuning loaded (%q)", warn)
	}
	if n, err := v.ConvScratch(p, false, kernels.ConvPassForward); err != nil || n != 0 {
		t.Errorf("tuned to implicit GEMM: %d floats of scratch (%v), want none", n, err)
	}
	x, w, bias := values(p.InLen(), 1), values(p.WeightLen(), 2), values(p.K, 3)
	got, err := v.Conv2D(p, x, w, bias)
	if err != nil {
		t.Fatal(err)
	}
	want, err := kernels.CPU{}.Conv2D(p, x, w, bias)
	if err != nil {
		t.Fatal(err)
	}
	kerneltest.Near(t, p.String(), got, want, kerneltest.F32)
	if v.Tuning.Hits() == 0 {
		t.Error("the tuned form was not looked up")
	}
	if m := v.Tuning.MissedConvs(); len(m) != 0 {
		t.Errorf("missed %v after the forward alone", m)
	}
	if _, _, _, err := v.Conv2DBackward(p, x, w, values(p.OutLen(false), 4)); err != nil {
		t.Fatal(err)
	}
	if m := v.Tuning.MissedConvs(); len(m) != 2 || m[0].Pass != kernels.ConvPassInputGrad || m[1].Pass != kernels.ConvPassWeightGrad {
		t.Errorf("missed %v, want the input and weight gradients", m)
	}
}

// TestRunConvsTiny: tuning two small conv passes times every form,
// rejects none, and keeps the default unless another form was faster by
// the margin.
func TestRunConvsTiny(t *testing.T) {
	v := kernels.NewVulkan(gputest.Open(t))
	wgrad := kernels.ConvPrim{Params: kernels.ConvParams{N: 2, C: 3, H: 9, W: 7, K: 5, KH: 3, KW: 3, Stride: 1, Pad: 1}, Pass: kernels.ConvPassWeightGrad}
	var done []string
	res := tune.RunConvs(v, []kernels.ConvPrim{strided, wgrad}, tune.Options{Rounds: 2, Confirm: 2}, func(r tune.ConvResult) { done = append(done, r.Key) })
	if len(done) != 2 {
		t.Errorf("done called for %v", done)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		forms, err := v.ConvForms(r.Prim)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Rejected) > 0 || r.Candidates != len(forms) || len(forms) != 3 {
			t.Errorf("%s: %d forms timed of %v, rejected %v", r.Key, r.Candidates, forms, r.Rejected)
		}
		c := r.Choice
		if c.Default != (c.Form == forms[0]) || c.TunedMs > c.DefaultMs || c.DefaultMs <= 0 {
			t.Errorf("%s: choice %+v", r.Key, c)
		}
		if !c.Default && c.TunedMs >= 0.97*c.DefaultMs {
			t.Errorf("%s: %v kept at %.3f ms against the default's %.3f", r.Key, c.Form, c.TunedMs, c.DefaultMs)
		}
	}
}
