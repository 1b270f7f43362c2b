// Package physics is the paper's first experiment: state-space systems
// and their data, models of their dynamics, and the experiment runner
// behind `noether-vk train`.
//
//   - Systems: the ideal spring and pendulum generated as Hamiltonian
//     Neural Networks does (NumPy's MT19937 stream reproduced, adaptive
//     Dormand-Prince), and the real pendulum read from its published file
//     (LoadTask, LoadRealPendulum).
//   - The long-term prediction protocol: Rollout (RK4 on a model's field
//     from each trajectory's true start) and RMSE.
//   - StepProblem: the Noether loss on a finite-difference step of the
//     predicted field (central by default, the paper's forward step on
//     request), what the model adapts (AdaptCN, AdaptAll), embeddings (an
//     MLP, or a formula of package formulas).
//   - The runner: Config in, Result out. TrainBaseline trains the MLP
//     baseline; RunMethod runs one row of the tables from it (vanilla,
//     the fine-tuning control, tailor, meta-tailor, noether, project);
//     Evaluate scores a tailored baseline without training. A Config is a
//     value: nothing it runs changes it, so callers (the formula search)
//     vary copies. Programs run on any Backend: Vulkan or the CPU executor.
//   - Data parallel: with two or more Config.DataParallel backends every
//     training phase runs as a noether.DataParallel over them (each trains
//     on a slice of every batch; CheckDevices refuses a batch smaller than
//     the device count); Config.Backend evaluates. With one, the phases
//     run the one program they always did, so its numbers do not move.
//
// Every phase writes its folder through package rundir (event log,
// checkpoints that --resume continues from) and sends its events to
// Config.Sinks too.
package physics
