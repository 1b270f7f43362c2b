package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/noether-vk/noether-vk/formulas"
	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/noether"
	"github.com/noether-vk/noether-vk/noether/physics"
)

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train the MLP baseline, the fine-tuning control and a Noether Network (or the methods you name) on a physics task; report long-term prediction RMSE",
		Description: `With no flags: the ideal pendulum; the vanilla MLP baseline (2-200-200-2, tanh, 2000 full-batch
Adam steps); the control (the baseline fine-tuned for --epochs without tailoring); then a Noether
Network whose neural embedding g_phi is meta-learned with Algorithm 1 from the baseline; the test
RMSEs side by side. The rollout protocol is in the README.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "task", Value: "pendulum", Usage: "spring, pendulum or real-pendulum"},
			&cli.StringFlag{Name: "data", Usage: "the real pendulum's data file (the published real_pend_h_1.txt format)"},
			&cli.StringFlag{Name: "method", Usage: "comma-separated: vanilla, finetune (the control: fine-tuned like the meta-trained methods, no tailoring), tailor, meta-tailor, noether, project (the reference: the baseline's field projected onto the formula's level sets, exact conservation) (default: vanilla,finetune,noether)"},
			&cli.StringFlag{Name: "loss", Usage: "conservation formula over p and q for tailor, meta-tailor and project, e.g. 'p^2 - 3*cos(q)'"},
			&cli.StringSliceFlag{Name: "loss-param", Usage: "a formula parameter's starting value, name=value (repeatable)"},
			&cli.BoolFlag{Name: "train-loss-params", Usage: "let meta-tailoring train the formula's parameters"},
			&cli.StringFlag{Name: "embedding-sizes", Value: "2,64,64,8", Usage: "layer widths of the noether method's MLP embedding g_phi"},
			&cli.Float64Flag{Name: "embedding-lr", Value: 1e-3, Usage: "outer Adam learning rate of the noether method's embedding g_phi (0 keeps g_phi at its random initialisation)"},
			&cli.StringFlag{Name: "adapt", Value: "cn", Usage: "what tailoring adapts per example: cn (a scale and shift per hidden unit, CNGrad) or all (every weight)"},
			&cli.Float64Flag{Name: "inner-lr", Usage: "inner (tailoring) learning rate (default: 100 for noether, 0.1 with a formula)"},
			&cli.IntFlag{Name: "inner-steps", Value: 1, Usage: "inner steps"},
			&cli.StringFlag{Name: "inner-opt", Value: "sgd", Usage: "inner optimiser: sgd or adam"},
			&cli.StringFlag{Name: "meta-grad", Value: "forward-over-reverse", Usage: "forward-over-reverse, reverse or first-order"},
			&cli.StringFlag{Name: "report", Usage: "write a JSON report here"},
		}, experimentFlags(50)...),
		Action: runTrain,
	}
}

// trainReport is the --report JSON: one entry per method run.
type trainReport struct {
	Device  string         `json:"device"`
	Task    string         `json:"task"`
	Runs    []methodReport `json:"runs"`
	Command []string       `json:"command"`
}

type methodReport struct {
	Task       string             `json:"task"`
	Method     string             `json:"method"`
	TestRMSE   float64            `json:"test_rmse"`
	TrainRMSE  float64            `json:"train_rmse"`
	Epochs     int                `json:"epochs"`
	Seconds    float64            `json:"seconds"`
	Device     string             `json:"device"`
	Loss       string             `json:"loss,omitempty"`
	LossParams map[string]float64 `json:"loss_params,omitempty"`
	StepRMSE   []float64          `json:"test_rmse_per_step"`
}

func runTrain(c *cli.Context) error {
	cfg, err := trainConfig(c)
	if err != nil {
		return err
	}
	task := c.String("task")
	data, d, v, err := openTask(c, "train", task, c.Uint64("seed"))
	if err != nil {
		return err
	}
	defer d.Close()
	methods := []physics.Method{physics.Vanilla, physics.FineTune, physics.Noether}
	if s := c.String("method"); s != "" {
		methods = nil
		for _, name := range strings.Split(s, ",") {
			m, err := physics.ParseMethod(strings.TrimSpace(name))
			if err != nil {
				return err
			}
			methods = append(methods, m)
		}
	}
	out := c.App.Writer
	fmt.Fprintf(out, "train: %s on %s (%s)\n", task, d.Info.Name, d.Info.DriverName)
	rep := trainReport{Device: d.Info.Name, Task: task, Command: os.Args}
	cfg.Progress = os.Stderr
	cfg.Backend = graph.VulkanBackend{Kernels: v}
	results, err := cfg.Run(data, methods...)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	for _, res := range results {
		m := res.Method
		epochs := cfg.BaselineSteps
		if m == physics.MetaTailor || m == physics.Noether || m == physics.FineTune {
			epochs = cfg.MetaEpochs
		}
		mr := methodReport{Task: task, Method: string(m), TestRMSE: res.TestRMSE, TrainRMSE: res.TrainRMSE, Epochs: epochs,
			Seconds: res.Seconds, Device: d.Info.Name, LossParams: res.LossParams, StepRMSE: res.StepRMSE}
		if cfg.Loss != nil && (m == physics.Tailor || m == physics.MetaTailor || m == physics.Project) {
			mr.Loss = cfg.Loss.String()
		}
		rep.Runs = append(rep.Runs, mr)
	}
	printTrain(out, rep, results)
	if err := physics.WritePlots(cfg.Dir, data, results); err != nil {
		return fmt.Errorf("train: plots: %w", err)
	}
	fmt.Fprintf(out, "run folder: %s (events.jsonl, checkpoints, plots)\n", cfg.Dir)
	if p := c.String("report"); p != "" {
		if err := writeJSON(p, rep); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	return nil
}

func printTrain(w io.Writer, rep trainReport, results []*physics.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tloss\ttest RMSE\ttrain RMSE\tbaseline test RMSE\tseconds")
	for i, r := range rep.Runs {
		loss := r.Loss
		if loss == "" {
			loss = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.4f\t%.4f\t%.0f\n", r.Method, loss, r.TestRMSE, r.TrainRMSE, results[i].BaselineTest, r.Seconds)
	}
	tw.Flush()
	for _, r := range rep.Runs {
		if r.Method == string(physics.FineTune) {
			fmt.Fprintln(w, "finetune is the control: the baseline trained for as many epochs as the meta-trained rows, without tailoring.")
			break
		}
	}
}

// trainConfig turns the flags into an experiment configuration.
func trainConfig(c *cli.Context) (physics.Config, error) {
	task := c.String("task")
	cfg, err := experimentConfig(c, task)
	if err != nil {
		return cfg, err
	}
	cfg.Adapt = c.String("adapt")
	cfg.EmbedLR = float32(c.Float64("embedding-lr"))
	cfg.EmbedClip = 1000
	cfg.LossParams = map[string]float64{}
	cfg.Inner = noether.Tailoring{Steps: c.Int("inner-steps"), LR: float32(c.Float64("inner-lr"))}
	cfg.DefaultInnerLR = !c.IsSet("inner-lr")
	switch c.String("inner-opt") {
	case "sgd":
	case "adam":
		cfg.Inner.Opt = noether.InnerAdam
	default:
		return cfg, fmt.Errorf("--inner-opt %q: want sgd or adam", c.String("inner-opt"))
	}
	if cfg.Inner.MetaGrad, err = noether.ParseMetaGrad(c.String("meta-grad")); err != nil {
		return cfg, err
	}
	for _, s := range strings.Split(c.String("embedding-sizes"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return cfg, fmt.Errorf("--embedding-sizes %q: want positive widths like 2,64,64,8", c.String("embedding-sizes"))
		}
		cfg.EmbedSizes = append(cfg.EmbedSizes, n)
	}
	if cfg.EmbedSizes[0] != 2 {
		return cfg, fmt.Errorf("--embedding-sizes: the first width is the state's, 2")
	}
	if s := c.String("loss"); s != "" {
		if cfg.Loss, err = formulas.Parse(s); err != nil {
			return cfg, fmt.Errorf("--loss: %w", err)
		}
	}
	for _, kv := range c.StringSlice("loss-param") {
		name, val, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(val, 64)
		if !ok || err != nil {
			return cfg, fmt.Errorf("--loss-param %q: want name=value", kv)
		}
		cfg.LossParams[name] = f
	}
	return cfg, nil
}
