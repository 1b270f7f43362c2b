package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is share Index of Count (0 <= Index < Count).
type Shard struct{ Index, Count int }

// CountEnv is the environment variable that gives the number of shares
// where the scheduler does not (Kubernetes Indexed Jobs).
const CountEnv = "NOETHER_VK_SHARD_COUNT"

// Auto is the shard specification that asks the scheduler.
const Auto = "auto"

// String writes the shard as Parse reads it.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Parse reads "i/N" (0 <= i < N).
func Parse(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/N with 0 <= i < N, e.g. 0/4, or %s to read it from the scheduler", s, Auto)
	}
	return Shard{Index: i, Count: n}, nil
}

// Resolve reads a shard specification: "i/N", or "auto" for the
// scheduler's array index (see the package documentation). count is the
// number of shares the caller was told (a flag; 0: not told), which
// Kubernetes needs and which must agree with Slurm's; env looks up an
// environment variable (os.LookupEnv).
func Resolve(spec string, count int, env func(string) (string, bool)) (Shard, error) {
	if spec != Auto {
		s, err := Parse(spec)
		if err == nil && count > 0 && count != s.Count {
			return Shard{}, fmt.Errorf("shard %s is one of %d shares, but a count of %d was given: give one of them", spec, s.Count, count)
		}
		return s, err
	}
	return fromScheduler(count, env)
}

// fromScheduler reads the array index of Slurm or Kubernetes.
func fromScheduler(count int, env func(string) (string, bool)) (Shard, error) {
	_, slurm := env("SLURM_ARRAY_TASK_ID")
	_, k8s := env("JOB_COMPLETION_INDEX")
	switch {
	case slurm && k8s:
		return Shard{}, fmt.Errorf("shard %s: both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set, so the scheduler is ambiguous: give the shard as i/N", Auto)
	case slurm:
		return slurmShard(count, env)
	case k8s:
		return kubernetesShard(count, env)
	}
	hint := ""
	if _, ok := env("SLURM_JOB_ID"); ok {
		hint = " (this Slurm job is not an array job: submit it with sbatch --array=0-<N-1>)"
	}
	return Shard{}, fmt.Errorf("shard %s: no array index in the environment%s: Slurm array jobs set SLURM_ARRAY_TASK_ID, Kubernetes Indexed Jobs JOB_COMPLETION_INDEX; outside a scheduler give the shard as i/N", Auto, hint)
}

// number reads the integer environment variable name; ok is false when
// it is unset.
func number(env func(string) (string, bool), name string) (n int, ok bool, err error) {
	v, ok := env(name)
	if !ok {
		return 0, false, nil
	}
	n, err = strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, true, fmt.Errorf("shard %s: %s=%q is not an integer", Auto, name, v)
	}
	return n, true, nil
}

// slurmShard numbers the array's tasks 0..N-1 in the order of their IDs:
// share (ID - MIN) / STEP of N.
func slurmShard(count int, env func(string) (string, bool)) (Shard, error) {
	id, _, err := number(env, "SLURM_ARRAY_TASK_ID")
	if err != nil {
		return Shard{}, err
	}
	n, hasCount, err := number(env, "SLURM_ARRAY_TASK_COUNT")
	if err != nil {
		return Shard{}, err
	}
	lo, hasMin, err := number(env, "SLURM_ARRAY_TASK_MIN")
	if err != nil {
		return Shard{}, err
	}
	hi, hasMax, err := number(env, "SLURM_ARRAY_TASK_MAX")
	if err != nil {
		return Shard{}, err
	}
	step, hasStep, err := number(env, "SLURM_ARRAY_TASK_STEP")
	if err != nil {
		return Shard{}, err
	}
	if !hasStep {
		step = 1
	}
	switch {
	case !hasMin && !hasMax && hasCount:
		lo, hi = 0, n-1 // IDs 0..N-1 assumed; checked below
	case !hasMin || !hasMax:
		return Shard{}, fmt.Errorf("shard %s: Slurm set SLURM_ARRAY_TASK_ID=%d but not SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN and _MAX: give the shard as i/N", Auto, id)
	case step < 1 || hi < lo:
		return Shard{}, fmt.Errorf("shard %s: Slurm's array runs from %d to %d in steps of %d: give the shard as i/N", Auto, lo, hi, step)
	}
	span := (hi-lo)/step + 1
	if !hasCount {
		n = span
	}
	if n != span || (hi-lo)%step != 0 {
		return Shard{}, fmt.Errorf("shard %s: Slurm's array has %d tasks with IDs from %d to %d: they are not a range, so they do not number the shares; submit with --array=0-%d", Auto, n, lo, hi, n-1)
	}
	if id < lo || id > hi || (id-lo)%step != 0 {
		return Shard{}, fmt.Errorf("shard %s: SLURM_ARRAY_TASK_ID=%d is not in the array %d-%d:%d", Auto, id, lo, hi, step)
	}
	if count > 0 && count != n {
		return Shard{}, fmt.Errorf("shard %s: Slurm's array has %d tasks, but a count of %d was given: submit --array=0-%d, or give the count the array has", Auto, n, count, count-1)
	}
	return Shard{Index: (id - lo) / step, Count: n}, nil
}

// kubernetesShard reads an Indexed Job's completion index; the count is
// the caller's or CountEnv.
func kubernetesShard(count int, env func(string) (string, bool)) (Shard, error) {
	i, _, err := number(env, "JOB_COMPLETION_INDEX")
	if err != nil {
		return Shard{}, err
	}
	if count == 0 {
		n, ok, err := number(env, CountEnv)
		switch {
		case err != nil:
			return Shard{}, err
		case !ok:
			return Shard{}, fmt.Errorf("shard %s: JOB_COMPLETION_INDEX=%d, but Kubernetes does not tell how many completions the Job has: set %s to its completions in the Job's manifest, or give the count as a flag", Auto, i, CountEnv)
		}
		count = n
	}
	if count < 1 || i < 0 || i >= count {
		return Shard{}, fmt.Errorf("shard %s: JOB_COMPLETION_INDEX=%d is not one of %d completions (0..%d): the count given does not match the Job's completions", Auto, i, count, count-1)
	}
	return Shard{Index: i, Count: count}, nil
}

// Block is the shard's contiguous run of n items, [lo, hi): the shares
// differ in size by at most one item.
func (s Shard) Block(n int) (lo, hi int) {
	return s.Index * n / s.Count, (s.Index + 1) * n / s.Count
}
