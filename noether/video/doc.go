// Package video is Noether training on video and the pixel-pendulum task
// of the paper's Figure 3: an SVG (package svg) predicts action-
// conditioned frames of the pendulum (package svg/pendulum), and a
// Noether Network tailors it per example with a meta-learned embedding
// g_phi of frame pairs.
//
//	c, err := video.Preset("default")             // or "paper"
//	c.Backend, c.Dir = graph.VulkanBackend{...}, "runs/pendulum"
//	results, err := c.Run(video.Methods()...)      // svg, svg-more-steps, noether
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
//     at test time.
//
// An epoch is one pass over every training window: the windows start
// Data.Stride frames apart in each training episode, and the trainer
// shuffles them and drops the last partial batch. The parameters pass
// from phase to phase by name; each program is loaded through
// Config.Backend, and its memory plan goes to Config.Progress.
//
// # Evaluation
//
// Each method predicts the first window of every test episode: History
// (4) frames given with the Horizon (26) actions from the last of them,
// Horizon frames predicted autoregressively. Each predicted frame is
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
// WriteOutputs (called by Run) writes into the run folder mse, psnr and
// ssim (PNG and SVG): each metric against the predicted frame, a line per
// method with its SEM band (the Figure 3 analog; the paper's bands are
// SEMs over training runs instead); loss, each phase's training loss per
// epoch; and strip_episodeNNN.png for the first Strips test episodes: the
// true predicted frames on top, then each method's prediction in the
// order the methods ran.
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
