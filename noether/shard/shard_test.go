package shard

import (
	"strings"
	"testing"
)

// env is an environment of the variables given.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  string
		count int
		vars  map[string]string
		want  Shard
		err   string // a word the error must hold; "" for success
	}{
		{name: "given", spec: "2/5", want: Shard{2, 5}},
		{name: "given, count agrees", spec: "2/5", count: 5, want: Shard{2, 5}},
		{name: "given, count disagrees", spec: "2/5", count: 4, err: "count of 4"},
		{name: "given wins over the scheduler", spec: "0/1", vars: map[string]string{"SLURM_ARRAY_TASK_ID": "3"}, want: Shard{0, 1}},
		{name: "index past the count", spec: "5/5", err: "0 <= i < N"},
		{name: "negative", spec: "-1/5", err: "0 <= i < N"},
		{name: "no slash", spec: "3", err: "i/N"},
		{name: "zero shares", spec: "0/0", err: "i/N"},
		{name: "slurm count", spec: Auto, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4",
			"SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"}, want: Shard{2, 4}},
		{name: "slurm count alone", spec: Auto, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, want: Shard{3, 4}},
		{name: "slurm min and max, from 1", spec: Auto, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1",
			"SLURM_ARRAY_TASK_MAX": "4"}, want: Shard{0, 4}},
		{name: "slurm stepped", spec: Auto, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_MIN": "0",
			"SLURM_ARRAY_TASK_MAX": "12", "SLURM_ARRAY_TASK_STEP": "4", "SLURM_ARRAY_TASK_COUNT": "4"}, want: Shard{2, 4}},
		{name: "slurm count agrees with the flag", spec: Auto, count: 4, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "0",
			"SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"}, want: Shard{0, 4}},
		{name: "slurm count disagrees with the flag", spec: Auto, count: 2, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "0",
			"SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"}, err: "count of 2"},
		{name: "slurm list of IDs", spec: Auto, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3",
			"SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "7"}, err: "not a range"},
		{name: "slurm ID outside the array", spec: Auto, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_MIN": "0",
			"SLURM_ARRAY_TASK_MAX": "3"}, err: "not in the array"},
		{name: "slurm no count", spec: Auto, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, err: "SLURM_ARRAY_TASK_COUNT"},
		{name: "slurm not a number", spec: Auto, vars: map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"}, err: "not an integer"},
		{name: "kubernetes, count from the flag", spec: Auto, count: 3, vars: map[string]string{"JOB_COMPLETION_INDEX": "2"}, want: Shard{2, 3}},
		{name: "kubernetes, count from the environment", spec: Auto, vars: map[string]string{"JOB_COMPLETION_INDEX": "0", CountEnv: "3"},
			want: Shard{0, 3}},
		{name: "kubernetes, the flag wins", spec: Auto, count: 2, vars: map[string]string{"JOB_COMPLETION_INDEX": "1", CountEnv: "3"},
			want: Shard{1, 2}},
		{name: "kubernetes, no count", spec: Auto, vars: map[string]string{"JOB_COMPLETION_INDEX": "0"}, err: CountEnv},
		{name: "kubernetes, index past the count", spec: Auto, count: 2, vars: map[string]string{"JOB_COMPLETION_INDEX": "2"}, err: "not one of 2"},
		{name: "both schedulers", spec: Auto, vars: map[string]string{"JOB_COMPLETION_INDEX": "0", "SLURM_ARRAY_TASK_ID": "0"}, err: "ambiguous"},
		{name: "neither", spec: Auto, err: "outside a scheduler give the shard as i/N"},
		{name: "a Slurm job that is no array", spec: Auto, vars: map[string]string{"SLURM_JOB_ID": "12"}, err: "sbatch --array"},
	} {
		got, err := Resolve(tc.spec, tc.count, env(tc.vars))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		case tc.err != "" && err == nil:
			t.Errorf("%s: %v accepted, want an error saying %q", tc.name, got, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("%s: error %q does not say %q", tc.name, err, tc.err)
		}
	}
}

// TestParseString: every shard prints as Parse reads it.
func TestParseString(t *testing.T) {
	for n := 1; n <= 4; n++ {
		for i := range n {
			s := Shard{i, n}
			got, err := Parse(s.String())
			if err != nil || got != s {
				t.Errorf("Parse(%q) = %v, %v", s, got, err)
			}
		}
	}
}

// TestBlock: the shares' blocks cover every item once, in order, and
// differ in size by at most one.
func TestBlock(t *testing.T) {
	for n := 0; n <= 13; n++ {
		for count := 1; count <= 5; count++ {
			next, small, large := 0, n, 0
			for i := range count {
				lo, hi := Shard{i, count}.Block(n)
				if lo != next || hi < lo {
					t.Fatalf("%d items in %d shares: share %d is [%d, %d), want it to start at %d", n, count, i, lo, hi, next)
				}
				next = hi
				small, large = min(small, hi-lo), max(large, hi-lo)
			}
			if next != n || large-small > 1 {
				t.Errorf("%d items in %d shares: the blocks end at %d, sizes %d to %d", n, count, next, small, large)
			}
		}
	}
}
