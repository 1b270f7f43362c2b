// Package svg is SVG, the stochastic video generation model of Denton &
// Fergus (2018), as the Noether Networks reference code uses it, composed
// from the modules of package graph/nn: a frame encoder with skip
// connections, a decoder, an LSTM frame predictor, and Gaussian LSTM
// prior and posterior.
//
//	m, err := svg.New(cfg)                          // or svg.Preset("default")
//	m.Declare(g)                                     // parameters (and BatchNorm state) by name
//	in := m.DeclareInputs(g, batch)                  // frames, actions, noise as graph inputs
//	p, err := m.TeacherForced(m.Context(g, nil, nil), in) // the training pass
//	loss, err := m.Loss(g, p, in.Frames)             // MSE + KLWeight * KL
//	values := m.Init(rng)                            // the reference's initialisation
//
// # Models
//
// Config.Family chooses the encoder and decoder, Config.ImageSize their
// depth. A frame of 4·2^k pixels passes k blocks, each halving it (VGG:
// 3x3 convolutions, norm, LeakyReLU 0.2, then 2x2 max pooling; DCGAN: a
// 4x4 stride-2 convolution, norm, LeakyReLU), then a 4x4 valid
// convolution to GDim, norm and tanh. Level j has min(Width·2^j,
// 8·Width) channels, and a VGG level 2 layers (levels 0, 1) or 3. The
// decoder mirrors it: a 4x4 transposed convolution of the code to 4x4,
// then per level the input concatenated on channels with the encoder's
// skip of that level (VGG: after nearest x2 upsampling), and sigmoid at
// the end with no norm. At Width 64 these are the reference's models
// channel for channel: DCGAN-64 and VGG-64 at 64 px, VGG-128 at 128 px
// (the Noether code takes VGG at both sizes); other sizes follow the same
// rule. Every norm layer, DCGAN's first block's included, is BatchNorm or
// GroupNorm(1, C) (Config.Norm), and is a CN site.
//
// The predictor is nn.LSTM (a linear embedding, PredictorLayers stacked
// cells of RNNSize, a linear read-out to GDim and tanh) on the
// concatenation [h, z, action]; the prior (on h) and the posterior (on
// the target frame's encoding) are nn.GaussianLSTM, reparameterised with
// noise the caller supplies. The variants (Config.Variant, ActionDim):
//
//   - LearnedPrior, SVG-LP: z of ZDim per step, from the posterior in
//     training and in the context steps, from the prior when generating;
//     the outer loss has the KL term.
//   - Deterministic: no z, no prior, no posterior, no KL, as the paper's
//     pixel-pendulum model ("remove the prior sampling component").
//   - ActionDim > 0: action t, the one applied at frame t, is
//     concatenated to frame t's encoding before the predictor, as the
//     paper describes. (The reference sizes its prior and posterior for
//     actions too but never feeds them any; here only the predictor
//     takes them.)
//
// # Initialisation
//
// As the reference's init_weights: convolution and linear weights
// N(0, 0.02) and biases 0 (the LSTMs' embedding and read-out layers
// included), BatchNorm weights N(1, 0.02) and biases 0. GroupNorm
// replaces BatchNorm after that in the Noether code, so its affine starts
// at exactly (1, 0). The LSTM cells keep PyTorch's U(±1/sqrt(H)).
// Config.ForgetBias adds the Noether code's own init_forget_bias_to_one:
// the forget block of the predictor's bias_ih set to 1 after the draw,
// nothing else changed; the prior and posterior keep theirs.
//
// # Passes
//
// Step builds one step i of the reference's SVGModel.forward: encode
// frame i-1, the prior on it, the posterior on the encoded ground truth
// i, the predictor on [h, z, action], the decoder. TeacherForced and
// Rollout build whole sequences of T = NPast + NFuture frames from
// per-step inputs (DeclareInputs makes them from time-major inputs
// [T, B, C, S, S]; SplitTime splits any such node):
//
//   - TeacherForced is predict_many_steps in 'train' mode: every step
//     predicts from the ground truth, z from the posterior, the prior run
//     only for the KL. The prediction is the context's ground truth
//     followed by frames NPast .. T-1 (the reference discards the context
//     steps' decoded frames too).
//   - Rollout is the 'eval' mode: the posterior's z drives the context
//     steps i < NPast, the prior's every later step, each predicting from
//     the previous prediction. Given all T frames the posterior still
//     runs on every step for the KL, as in the reference; given only the
//     NPast context frames it stops after the context and there is no
//     KL.
//   - Loss is the reference's svg_crit: the sum over frames 1 .. T-1 of
//     the mean squared error (the context frames, being the ground truth,
//     add 0) plus KLWeight times the KL, summed over steps and z, averaged
//     over the batch.
//
// The skips are the reference's quirk, reproduced (ContextSkips, the
// default): they are updated only by the steps i < NPast, so every
// predicted frame is decoded with the skips of the last context step's
// input, frame NPast-2 — for the Physics 101 run's NPast = 2 the first
// frame. SVG and the Noether code both do this, and their published
// numbers were made with it. EveryStepSkips is the reference's
// --last_frame_skip option.
//
// BatchNorm normalises with the running statistics unless
// nn.Context.Train is set; then it uses the batch's and the passes chain
// the running statistics through every application in order, as
// PyTorch's successive calls do, and leave the final ones in
// Context.NewState. (The Noether code puts its model in eval mode at
// every epoch and never back, so its meta-training normalises with the
// running statistics; SVG's own training uses the batch's.)
//
// # Tailoring
//
// The per-example tensors tailoring adapts are named sites
// (nn.AdaptSpec), read from nn.Context.Adapted; a site with no tensor
// there inserts no op, and the identity (nn.Start) predicts exactly what
// the plain model does.
//
//   - CNSites: every norm layer's output, scale and shift [B, C]. VGG-128
//     has 27 (14 encoder, 13 decoder), VGG-64 21, DCGAN-64 9.
//   - OffsetSites: an additive offset [B, RNNSize] per predictor layer,
//     zero at the start, added to the hidden state the layer reads at
//     every step (the paper's "latent LSTM activations").
//
// Adaptation over either list (or any list of the model's sites)
// implements noether.Adaptation, and Model.Context binds noether's theta
// and the adapted tensors, so a Noether problem's Inner and Task are
// both a pass built with them:
//
//	ad := svg.Adaptation{Sites: m.OffsetSites()}
//	// Inner(g, theta, adapted, phi):
//	p, _ := m.TeacherForced(m.Context(g, theta, ad.Bind(adapted)), in)
//	// ... embed p.Frames with phi, noether.Loss(g, embeds, noether.Consecutive)
//	// Task(g, theta, adapted): m.Loss of the same pass
//	loss, dTheta, dPhi, err := noether.Meta(g, problem, ad, theta, phi, batch, tailoring)
//
// The noise is graph input, so one feed serves the passes before and
// after the inner step alike (the Noether code's reused epsilons);
// Model.Noise draws it. The meta-gradient works forward over reverse or
// first order; reverse over reverse is not available for the norm and
// LSTM kernels (package graph).
//
// # Presets
//
//	name     frames          model                                 parameters
//	default  32x32x3, 4+26   DCGAN, Width 8 (8, 16, 32 channels),    135,891
//	                         GDim 32, RNNSize 64, 2 predictor
//	                         layers, deterministic, ActionDim 1,
//	                         GroupNorm
//	paper    64x64x3, 4+26   VGG-64 (64 .. 512 channels), GDim 128,  21,631,107 (+11,008 BatchNorm state)
//	                         RNNSize 256, 2 predictor layers,
//	                         deterministic, ActionDim 1, BatchNorm
//	phys101  128x128x3, 2+20 VGG-128, GDim 128, ZDim 64, RNNSize     39,356,035
//	                         256, 2/1/1 layers, SVG-LP, GroupNorm
//
// default is the pixel pendulum for 2 CPU cores: the paper's setting
// (deterministic, action-conditioned, 4 context and 26 predicted frames)
// with the cheaper DCGAN encoder at half the frame size and an eighth of
// the channels, and GroupNorm, which keeps each example's prediction
// independent of the rest of its batch; a training step (loss and
// gradients) of 8 sequences takes 1-2 s on lavapipe (BenchmarkTrainStep).
// paper is the pixel pendulum at the sizes the Noether code uses for
// 64 px frames (the paper gives none for this model), for a GPU; phys101
// the Noether code's Physics 101 run. All three set ForgetBias and
// KLWeight 1e-4, as the Noether code.
//
// # Names and layouts
//
// Tensors carry the reference SVGModel's state_dict names: the scopes
// encoder, frame_predictor, decoder, prior and posterior (Params lists
// them in that order), then the reference's attribute names. With L
// levels, for DCGAN
//
//	encoder.c{k}.main.0.{weight,bias}        k = 1..L: Conv2d [out, in, 4, 4]
//	encoder.c{k}.main.1.{weight,bias}        the norm [out] (BatchNorm: also running_mean, running_var)
//	encoder.c{L+1}.0.*, .1.*                 the 4x4 valid Conv2d to GDim, its norm
//	decoder.upc1.0.*, .1.*                   ConvTranspose2d [GDim, out, 4, 4], its norm
//	decoder.upc{j}.main.0.*, .1.*            j = 2..L: ConvTranspose2d [2·in, out, 4, 4], its norm
//	decoder.upc{L+1}.0.*                     ConvTranspose2d [2·Width, Channels, 4, 4]
//
// and for VGG
//
//	encoder.c{k}.{l}.main.0.*, .1.*          layer l of level k: Conv2d [out, in, 3, 3], its norm
//	encoder.c{L+1}.0.*, .1.*                 the 4x4 valid Conv2d to GDim, its norm
//	decoder.upc1.0.*, .1.*                   ConvTranspose2d [GDim, out, 4, 4], its norm
//	decoder.upc{j}.{l}.main.0.*, .1.*        j = 2..L+1: Conv2d [out, in, 3, 3], its norm
//	decoder.upc{L+1}.1.*                     the last ConvTranspose2d [Width, Channels, 3, 3]
//
// then, as nn.LSTM and nn.GaussianLSTM name them,
//
//	frame_predictor.embed.{weight,bias}      [GDim + ZDim + ActionDim, RNNSize]: rows h, z, action
//	frame_predictor.lstm.{l}.{weight_ih,weight_hh,bias_ih,bias_hh}   [RNNSize, 4·RNNSize], [4·RNNSize]
//	frame_predictor.output.0.{weight,bias}   [RNNSize, GDim]
//	prior.embed.*, prior.lstm.{l}.*, prior.mu_net.*, prior.logvar_net.*   (posterior.* alike)
//
// Layouts are PyTorch's except that linear and LSTM weights are stored
// [in, out] (transpose them for PyTorch; see package graph/nn). The
// sites are named after the norm layer or predictor layer they follow:
// encoder.c1.0.main.1.cn.scale and .cn.shift (the reference's CNLayer
// at main.2, gamma and beta [B, C, 1, 1]), frame_predictor.lstm.0.offset
// (no reference counterpart). nn.Save and nn.Load keep a model's Params
// and State in a safetensors file by these names; Load refuses a file of
// another configuration, naming every tensor that differs.
package svg
