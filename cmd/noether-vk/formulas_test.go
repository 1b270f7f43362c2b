package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFormulasEnumerate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "enum.json")
	out, err := runApp(t, "formulas", "enumerate", "--system", "spring", "--depth", "5", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "total  123") {
		t.Errorf("spring depth 5: want 123 formulas:\n%s", out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
}

// TestFormulasShardedFit fits a small enumeration in two shards through
// the CLI and merges them.
func TestFormulasShardedFit(t *testing.T) {
	dir := t.TempDir()
	var parts []string
	for _, s := range []string{"0/2", "1/2"} {
		p := filepath.Join(dir, strings.ReplaceAll(s, "/", "of")+".json")
		if _, err := runApp(t, "formulas", "fit", "--system", "spring", "--depth", "5", "--shard", s, "--json", p); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	// As the README writes it: the flag after the parts (finding 4 of
	// issue 19: it was taken for a part).
	out, err := runApp(t, append(append([]string{"formulas", "merge"}, parts...), "--json", filepath.Join(dir, "all.json"))...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "123 formulas enumerated, 123 fitted") {
		t.Errorf("merged fit:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "all.json")); err != nil {
		t.Error(err)
	}
	if _, err := runApp(t, "formulas", "merge", parts[0]); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("merging one of two shards: error %v", err)
	}
}

func TestFormulasErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"kind": "train"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"formulas", "enumerate", "--system", "cart-pole"}, "unknown system"},
		{[]string{"formulas", "fit", "--shard", "2/2"}, "--shard"},
		{[]string{"formulas", "fit", "--depth", "0"}, "--depth"},
		{[]string{"formulas", "merge", bad}, "not the --json"},
		{[]string{"formulas", "search", "--system", "real-pendulum"}, "--data"},
	} {
		if _, err := runApp(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.want)
		}
	}
}

// TestFormulasResumeChecksFits: a resumed search refuses saved fits made
// with other settings instead of silently reusing them.
func TestFormulasResumeChecksFits(t *testing.T) {
	dir := t.TempDir()
	if _, err := runApp(t, "formulas", "fit", "--system", "spring", "--depth", "3", "--json", filepath.Join(dir, "fits.json")); err != nil {
		t.Fatal(err)
	}
	_, err := runApp(t, "formulas", "search", "--system", "spring", "--depth", "3", "--out", dir, "--resume", "--accept-ratio", "50")
	if err == nil || !strings.Contains(err.Error(), "was fitted with") {
		t.Errorf("resume with another --accept-ratio: error %v", err)
	}
}

// TestFormulasShardAuto: under a Kubernetes Indexed Job the fit takes its
// share from JOB_COMPLETION_INDEX and the count from --shard-count or
// NOETHER_VK_SHARD_COUNT, and without a count it is refused.
func TestFormulasShardAuto(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	fit := []string{"formulas", "fit", "--system", "spring", "--depth", "3", "--shard", "auto"}
	_, err := runApp(t, fit...)
	wantRefused(t, "no count", err, exitUsage, "NOETHER_VK_SHARD_COUNT")
	for _, count := range []string{"flag", "environment"} {
		p := filepath.Join(dir, count+".json")
		args := append(slices.Clone(fit), "--json", p)
		if count == "flag" {
			args = append(args, "--shard-count", "2")
		} else {
			t.Setenv("NOETHER_VK_SHARD_COUNT", "2")
		}
		if _, err := runApp(t, args...); err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Shard string `json:"shard"`
		}
		if err := readJSON(p, &rep); err != nil || rep.Shard != "1/2" {
			t.Errorf("count from the %s: shard %q (%v), want 1/2", count, rep.Shard, err)
		}
	}
}
