// Package nn is the module layer over package graph: layers that declare
// named parameters, draw their initial values, and build graph nodes, so
// a model is composed rather than wired node by node.
//
// A Module holds configuration only (Linear{In: 2, Out: 8}). Its tensors
// are named by the Scope it is used at, with PyTorch's dotted names
// (enc.c1.0.weight), and live outside the module: declared in the graph
// (Declare), drawn by Init, replaced per call through Context.Params, saved
// and loaded by name (Save, Load). The same module value therefore serves
// shared weights, per-example copies of them and adapted tensors alike.
//
//	specs := model.Params("enc")                          // names, shapes, initialisers
//	nn.Declare(g, specs)                                  // graph parameters of those names
//	y := model.Apply(&nn.Context{Graph: g}, "enc", x)     // the graph ops
//	values := nn.Init(rand.New(rand.NewPCG(seed, 0)), specs) // set with SetParam
//
// # Names and layouts
//
// Layer i of a Sequential lives at scope s.i (parameter-free layers
// count, as in torch.nn.Sequential), a Named layer at s.Name. The tensors,
// with their layouts (row-major float32):
//
//	Linear            s.weight [in, out], s.bias [out]
//	MLP               s.i.weight, s.i.bias: layer i, a Linear
//	Conv2d            s.weight [out, in, k, k], s.bias [out]
//	ConvTranspose2d   s.weight [in, out, k, k], s.bias [out]
//	GroupNorm         s.weight [C], s.bias [C]
//	BatchNorm         s.weight [C], s.bias [C]; state s.running_mean [C], s.running_var [C]
//	LSTMCell          s.weight_ih [in, 4H], s.weight_hh [H, 4H], s.bias_ih [4H], s.bias_hh [4H]
//	LSTM              s.embed.*, s.lstm.i.*, s.output.0.* (SVG's lstm)
//	GaussianLSTM      s.embed.*, s.lstm.i.*, s.mu_net.*, s.logvar_net.* (SVG's gaussian_lstm)
//
// These are PyTorch's names and layouts except one: weights that multiply
// from the right (Linear's, the LSTM cells') are stored [in, out], as
// graph.Graph.MatMul takes them, where PyTorch stores [out, in];
// transpose them when converting. LSTM gate blocks are i, f, g, o, as in
// PyTorch.
//
// # Initialisation
//
// Init draws every tensor from one *rand.Rand, in declaration order. The
// defaults are PyTorch's: U(+-1/sqrt(fan in)) for the weights and biases
// of linear and convolution layers (KaimingUniform; a transposed
// convolution's fan in is out*k*k, as PyTorch computes it), U(+-1/sqrt(H))
// for LSTM cells, (1, 0) for norm affines, (0, 1) for running statistics.
// A layer's Init field overrides them: Orthogonal, Normal, Uniform,
// Constant, or DCGAN and DCGANNorm, the reference initialisation of DCGAN
// and SVG.
//
// # Adaptation
//
// Tailoring adapts per-example tensors at sites the modules declare:
// every norm layer's output (CN: s.cn.scale and s.cn.shift [B, C],
// starting at 1 and 0, applied after the norm's affine), the MLP's hidden
// pre-activations (s.i.cn.scale and s.i.cn.shift, before the activation),
// and the output of any module wrapped in LatentOffset (s.offset, starting
// at 0). Adaptables lists them with their per-example shapes and start
// values; Start makes the start tensors; Apply reads them from
// Context.Adapted by name. A site with no tensor there inserts no op: the
// plain model is the plain op sequence. Per-example weights go through
// Context.Params instead: Linear multiplies example by example when its
// weight there is [B, in, out].
//
// # State
//
// BatchNorm's running statistics are named state tensors (State), declared
// and stored like parameters but not trained. With Context.Train set,
// BatchNorm normalises with the batch statistics and puts the updated
// running statistics (momentum 0.1, PyTorch's update) in Context.NewState;
// the caller compiles them as outputs and stores them after each run.
// Otherwise it normalises with the running statistics. LSTM state (h and c
// per layer) is explicit too: Step takes it and returns the next.
//
// # Files
//
// Save and Load keep a parameter set (and state) in a safetensors file,
// tensors by the names above, float32, with string metadata. Python reads
// it with the safetensors library:
//
//	from safetensors.numpy import load_file
//	p = load_file("params.safetensors")
//	p["f.0.weight"].T   # a Linear weight, as torch.nn.Linear stores it
//
// Load checks every name and shape against the model and reports every
// missing, extra and mis-shaped tensor.
//
// # Errors
//
// Shape errors stick to the graph and name the op (graph.Graph.Err,
// Compile). A module asking for a tensor that is neither in
// Context.Params nor declared in the graph is a programmer error, and
// Context.Param panics naming it.
package nn
