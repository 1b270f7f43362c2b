// Package video is Noether training on video: an SVG (package svg)
// predicts frames, and a Noether Network tailors it per example with a
// meta-learned embedding g_phi of frame pairs. Three tasks (Task):
//
//   - pixel-pendulum, the paper's Figure 3: the action-conditioned
//     pendulum of package svg/pendulum; noether starts from the trained
//     SVG, whose weights stay fixed, and tailors the latent offsets.
//   - ramp, the Figure 4 analog that runs anywhere: the built-in Physics
//     101-style ramp scenes of package svg/ramp (311 training, 78 test
//     clips of 2 + 20 frames).
//   - physics101, the paper's Figure 4: Physics 101's 20-degree ramp
//     clips (package svg/phys101), which the user supplies.
//
// On ramp and physics101 the presets follow the Noether code's Physics
// 101 run: SVG-LP, noether trained from scratch (NoetherFromScratch: the
// SVG and g_phi together, from the same initial parameters as svg), an
// SGD inner step on the CN sites, and the inner-loss curve of Figure 6.
//
//	c, err := video.Preset(video.Ramp, "default") // or "paper"; video.PixelPendulum, video.Physics101
//	c.Backend, c.Dir = graph.VulkanBackend{...}, "runs/ramp"
//	results, err := c.Run(video.SVG, video.Noether)
//
// # The Noether problem
//
// Embedding is the reference's g_phi: two frames stacked on channels; a
// 5x5 convolution 6 -> 32 with padding 2, ReLU, 2x2 max pooling; a 5x5
// convolution 32 -> 64, ReLU, 2x2 max pooling; flattened in (C, H, W)
// order; a linear layer to 64; PyTorch's default initialisation. The
// frames' side must be a multiple of 4.
//
// Problem is the noether.Problem. Its inner loss is the Noether loss
// (NoetherLoss: form 2b by default, as the reference, or 2a) over the
// embeddings of consecutive frame pairs of the prediction gen_0 ..
// gen_{T-1} (the context's ground truth first, so the first pair is all
// ground truth): teacher-forced in training, autoregressive at
// evaluation, where only the context frames are fed. Per example it is
// the sum over pairs of the mean over embedding dimensions; tailoring
// adds the examples' losses, so its rate is per example (the reference's
// rate on its batch mean is this rate times the batch). The task loss is
// SVG's (svg.Model.Loss) on the teacher-forced pass. The inner step
// adapts the predictor's latent offsets (svg.Model.OffsetSites, the
// paper's choice for the pendulum and the default) or the CN sites
// (svg.Model.CNSites), with SGD or Adam for any number of steps
// (noether.Tailoring); the meta-gradient is forward over reverse (the
// default) or first order: reverse over reverse is not available for the
// SVG's norm and LSTM kernels. SVG-LP's noise samples are graph inputs,
// so the passes before and after the inner step read the same ones, as
// the reference's reused epsilons.
//
// # Methods and phases
//
// Run trains every phase through noether.Trainer, each in its folder of
// the run folder (rundir.OpenPhase: event log, checkpoint, progress), so
// a stopped run resumes (Config.Resume) and gives the numbers of an
// uninterrupted one; Config.ChangeRates lets it resume under other
// learning rates (after a divergence). `noether-vk train --task
// pixel-pendulum` is Run behind a command line:
//
//   - svg: the base, SVG trained with teacher forcing, Adam at LR, for
//     SVGEpochs (the paper's 50). The method svg is this model.
//   - svg-more-steps: the control, the same training continued (its Adam
//     state included) for MoreEpochs (20) more.
//   - noether: Algorithm 1 for NoetherEpochs (20) from the trained SVG,
//     whose weights stay fixed as the paper says: only g_phi trains, with
//     Adam at EmbedLR and its gradient norm clipped to EmbedClip (1000),
//     on the task loss after the inner step. Its predictions are tailored
//     at test time. With NoetherFromScratch (ramp, physics101) it starts
//     instead from the SVG's initial parameters and trains them too, with
//     Adam at LR, as the Noether code's Physics 101 run: svg is then the
//     same training without the inner step, and svg-more-steps is
//     refused; svg trains only when a method needs it.
//
// SVG-LP's noise is drawn afresh for every training step from the seed
// and the step's number (so a resumed run draws what an uninterrupted
// one would), and reused by the passes before and after the inner step.
//
// An epoch is one pass over every training window (the pendulum's
// windows start Data.Stride frames apart in each training episode; the
// clip tasks' windows are their clips), shuffled, the last partial batch
// dropped. The parameters pass
// from phase to phase by name; each program is loaded through
// Config.Backend, and its memory plan goes to Config.Progress.
//
// # Evaluation
//
// Each method predicts the first window of every test episode of the
// pendulum (History (4) frames given with the Horizon (26) actions from
// the last of them), or every test clip of ramp and physics101 (2 given,
// no actions): NFuture frames predicted autoregressively. Each predicted frame is
// scored against the truth with package noether/metrics (MSE; PSNR and
// SSIM with data range 1, metrics.Options{}; each colour channel's PSNR
// capped at PSNRCap, 100 dB, before the average over channels, because
// an exactly predicted channel's is +Inf, which JSON cannot hold and
// which would make every mean infinite); Result holds the means over
// frames and episodes with their SEMs across episodes, and per step the
// mean and SEM across episodes. Its JSON names are those of the report:
// test_mse, test_psnr, test_ssim, mse_per_step, psnr_per_step,
// ssim_per_step and the *_sem fields.
//
// With Config.LPIPS (a weight file, metrics.LoadLPIPSWeights) every
// predicted frame is also scored by LPIPS (test_lpips, lpips_per_step).
//
// Run writes into the run folder results.json (the Results) and draws
// from it (WriteFigures; `noether-vk plot` redraws them) mse, psnr, ssim
// and lpips when scored (PNG and SVG): each metric against the predicted
// frame, a line per method with its SEM band over test windows (the
// Figure 3 and 4 analogs; the paper's bands are SEMs over training runs,
// which WriteSeedFigures draws from several runs); loss, each phase's
// training loss per epoch; and strip_episodeNNN.png for the first Strips
// test windows: the true predicted frames on top, then each method's
// prediction in the order the methods ran.
//
// # The inner-loss curve (Figure 6)
//
// With InnerCurveSteps > 0, after noether is evaluated, its trained model
// predicts the first EvalBatch test windows autoregressively with the
// tailored sites as free per-window tensors, and InnerCurveSteps Adam
// steps at InnerCurveLR (the paper: 500 at 1e-4) minimise the sum of the
// windows' Noether losses; the inner loss and the outer loss (the summed
// per-frame MSE against the truth, SVG's loss without the KL) are
// recorded before every step and after the last (inner_curve.json, and
// the plot inner_curve, both relative to step 0). The paper finds the
// outer loss improving for about 150 steps.
//
// # Presets
//
//	         model (svg preset)            data                      schedule
//	default  32x32, DCGAN width 8,         5 train episodes, windows  batch 8, 21 steps an epoch;
//	         GroupNorm, deterministic      5 frames apart (175);      epochs 10 + 4, 4;
//	                                       195 test episodes          lr 2e-3, embedding lr 1e-3
//	paper    64x64, VGG-64, GroupNorm      5 train episodes, every    batch 16, 53 steps an epoch;
//	         (for BatchNorm), deterministic window (855);             epochs 50 + 20, 20;
//	                                       195 test episodes          lr 2e-3, embedding lr 1e-4
//
// Both tailor the latent offsets with one SGD step at rate 1e5 per
// example against the 2b loss; the embedding has 64 dimensions. The
// learning rate 2e-3 is SVG's own default; 1e-4 for the embedding is the
// Noether code's. default keeps the paper's 4 + 26 frames and its 50:20:20
// ratio of epochs, at a fifth of the epochs, a fifth of the windows and
// 32 px frames, so that `train --task pixel-pendulum` finishes within 20
// minutes on 2 CPU cores with lavapipe. Measured end to end (Run with
// every method, seed 1, 2 shared cores): 10.6 minutes; a training step of
// svg takes 0.5-0.8 s, one of noether (forward over reverse through the
// whole SVG) 4-5 s, and evaluating 195 test windows 5 s for svg and about
// 50 s for noether, which tailors. Its test MSE falls from 0.095 after
// one epoch to 0.0043 (svg), 0.0040 (svg-more-steps) and 0.0043
// (noether), but at that length the models predict a blurred, nearly
// still pendulum: the schedule shows learning, not the paper's result
// (30 epochs of svg, 11 minutes alone, still do: MSE 0.0037).
//
// paper is for a GPU. Measured on lavapipe at batch 2, a training step
// takes 63 s for svg and 126 s for noether (about 1 TFLOP for svg's:
// some 2.9 GMAC per frame through VGG-64's encoder and decoder, 29 steps,
// forward and backward); at batch 16 and 53 steps an epoch that is about
// 7.4 hours an epoch of svg and 15 of noether there. On a GPU where the
// kernels reach 5 TFLOP/s (an assumption: no GPU has run them yet) an
// epoch would take about 1.5 minutes of svg and 3 of noether, the whole
// run (50 + 20 epochs of svg, 20 of noether) some 2.6 hours.
//
// The ramp's and Physics 101's presets (Preset(Ramp, ...) and
// Preset(Physics101, ...) differ only in their data):
//
//	         model                          schedule
//	default  32x32, VGG width 4, g_dim 32,  batch 8, 38 steps an epoch; 2 epochs of svg,
//	         z_dim 8, predictor 1x64, LP    2 of noether; lr 2e-3, embedding lr 1e-3;
//	                                        100 inner-curve steps
//	paper    128x128, VGG-128 width 64,     batch 2, 155 steps an epoch; 400 + 400
//	         g_dim 128, z_dim 64, 2x256     epochs; lr 1e-4, embedding lr 1e-4;
//	         (svg preset "phys101")         500 inner-curve steps
//
// Both tailor the CN sites with one SGD step at 5e-5 per example (the
// reference's 1e-4 on the mean of its batch of 2) against the 2b loss,
// noether from scratch. default fits the 20 minutes on 2 CPU cores that
// a first run should take (measured end to end, seed 0, idle machine:
// 13 min 37 s, svg 1.0-1.2 s a step, noether 6 s): at 64 px, a noether step at batch 8 needs 2.9
// GiB, more than lavapipe's 2 GiB, and an svg epoch alone took about 4
// minutes; the embedding's two 5x5 convolutions over 21 frame pairs are
// most of a noether step's work (the README has the measured times).
//
// # Checked against PyTorch, and timed
//
// NewMetaStep compiles the noether method's training step alone, the
// program Run trains with, for `noether-vk bench-kernels` (row
// video_meta_step). tools/peer/videostep.py is the same step written
// independently in PyTorch: TestPeerVideoStep (run where python3 imports
// torch, skipped elsewhere) gives it a tiny SVG's weights and inputs
// through a safetensors file and compares the tailored task loss and the
// meta-gradients for every SVG and g_phi tensor with its reverse over
// reverse in float64, for the latent offsets, the CN sites, and SVG-LP
// with two inner steps; its bench mode times the default preset's step
// for `make bench-peer`.
package video
