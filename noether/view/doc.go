// Package view is the live viewer's composition: what a run looks like,
// independent of how it reaches the screen. It reads a run folder
// (Folder, which follows a folder still being written) or a trainer's
// events (Live, a noether.Sink that never makes the trainer wait), keeps
// the viewer's State (example, step, pause, heat maps, principal
// component; Key applies a key press), and lays out a frame as a
// compose.Scene (Scene): for a physics run, the phase portraits (q, p) of
// test rollouts against the truth, the RMSE per rollout step and the
// training losses; for a video run, true and predicted frames, Grad-CAM
// heat maps over the frames (gradcam/maps.safetensors) and the strips;
// and a status line. It knows no Vulkan: kernels/compose composes the
// scene and gpu/window shows it.
//
// A run folder keeps the rollouts the viewer draws in RolloutsName,
// written by RolloutWriter, a sink the train command adds.
//
//	f, err := view.OpenFolder("runs/pendulum-seed0")
//	var st view.State
//	scene := view.Scene(f.Run(), &st, 960, 600)
//	frame, err := composer.Frame(scene) // kernels/compose
//	err = view.WritePNG("frame.png", frame, 960, 600)
package view
