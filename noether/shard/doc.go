// Package shard says which share of a split piece of work this process
// does: share i of N, given as "i/N" (Parse) or read from the scheduler
// that started the process (Resolve with "auto"):
//
//   - Slurm array jobs (sbatch --array=0-3): SLURM_ARRAY_TASK_ID, with the
//     count from SLURM_ARRAY_TASK_COUNT or from SLURM_ARRAY_TASK_MIN, _MAX
//     and _STEP. Arrays need not start at 0 (--array=1-4 is shares 0..3)
//     and may step (--array=0-12:4 is four shares); a list of IDs that is
//     no arithmetic range (--array=1,2,7) is refused, since its IDs do not
//     number the shares.
//   - Kubernetes Indexed Jobs (completionMode: Indexed):
//     JOB_COMPLETION_INDEX. Kubernetes does not tell a pod the number of
//     completions, so the count comes from the caller (a flag) or from the
//     environment variable CountEnv, which the Job's manifest sets.
//
// A process that finds neither is refused with what to give instead: a
// sharded run must never quietly do all of the work, or none of it.
//
// How a share maps to items is the caller's: the formula search deals
// formulas out in turn (k mod N); sweeps take a contiguous Block, since
// neighbouring points share a baseline.
package shard
