// Package sweep runs a grid of training runs, one run folder per point,
// split over the tasks of a scheduler's array job, and joins their results
// into one table with the mean and spread over seeds.
//
// # The sweep file
//
// A sweep file is JSON (the one format: Go reads it without a
// dependency, and every setting is a train flag's name and value):
//
//	{
//	  "description": "what the sweep measures",
//	  "out": "runs/tables",
//	  "numbers": ["test_rmse", "train_rmse"],
//	  "common": {"seed": [0, 1, 2]},
//	  "grids": [
//	    {"task": "pendulum", "method": ["vanilla", "finetune"]},
//	    {"task": "pendulum", "method": "tailor", "loss": "p^2 - 3*cos(q)", "inner-lr": [1, 3.16]}
//	  ]
//	}
//
// Each grid maps train flags (without their dashes) to a value or a list
// of values; its points are every combination of them (the product, the
// first axis varying slowest). The sweep's points are, for every
// combination of the axes of "common" (the outermost loop), those of
// every grid in turn.
// A value is a string, a number (kept as written: 3.16 stays "3.16") or
// a boolean. Every point names one task, one method and one seed; the
// sweep owns out, resume, overwrite, report and change-rates, which a
// file may not set. "out" is the folder of the run folders (default:
// runs/ and the file's name without .json); "numbers" the results to
// tabulate, in order (default: every number the results record, by name).
//
// # Run folders
//
// Point p runs into out/TASK/METHOD[/NAME=VALUE,...]/seedSEED, where the
// NAME=VALUE pairs are the point's other settings that vary across the
// sweep, by name; a value that is not a plain word is written as the
// first 8 hex digits of its SHA-256. A point is complete when its run
// folder's manifest holds its method's result, done, with the settings
// the point's train would record (Runner.Plan), and the run-wide settings
// (task, data checksum, seed) too. Run skips complete points and runs the
// others with train's --resume semantics: a killed, stopped or failed
// point continues from its checkpoints. A point that starts from a phase
// another point has finished under the same settings (the baseline every
// method of a task and seed starts from) gets a copy of that phase's
// folder instead of training it again; resuming from a checkpoint gives
// the numbers of an uninterrupted run, so this changes no result. A stop
// request ends a run before its next point (the command line's also stops
// the point in progress at a checkpoint); an error every point would meet
// (Halt: no device) ends it at once.
//
// The command line's Runner runs train in-process, so a sweep covers
// what train does on the physics tasks.
//
// # Shards
//
// The points are run in an order that keeps the points sharing a phase
// together (groups in order of first appearance, file order within one),
// and shard i of N runs the i-th contiguous block of that order
// (shard.Shard.Block), so a shard trains each shared phase at most once, and not at all when
// another point has finished it.
// Merge reads every point's manifest: it refuses a sweep with any point
// missing or incomplete, naming them, and tabulates the rest: one row per
// point with its seed left out, the mean, sample standard deviation,
// minimum and maximum over the seeds, and every seed's value.
package sweep
