/**
 * The usage text of `sbnkit train`, printed by `--help` and after every usage error. Kept apart
 * from the command (src/cli/train.ts) so that the command stays one concept per file.
 */
import { estimatorNames } from '../estimators/estimator.js'
import { CALIBRATION_ROWS } from '../train/calibrate.js'

export const trainUsage = `usage: sbnkit train (--model FILE | --preset mlp:W1,W2,… | --preset conv[:C1,C2]) --dataset D --out DIR [options]
       sbnkit train --resume DIR/checkpoint [--epochs N]

Trains a stochastic binary network: minibatch gradient estimates (any estimator, per site if
wanted), a weight recipe for the latent weights, SGD or Adam for real parameters. After every
epoch it evaluates the mode network and a K-sample ensemble on validation, logs, and writes a
checkpoint; at the end it re-estimates the mode network's batch norm, evaluates on test and
writes DIR/model.json (docs/training.md).
The defaults are the standard recipe, npm start's: matched ST + mirror descent (md), Adam
lr 0.2 cosine, batch 256, 16 epochs, batch norm on presets.

data and network:
  --dataset D           mnist (full, 60 000/10 000) | mnist-subset | fashion-mnist | cifar10 | FILE.json (sbnkit-data/1 with x and class labels y)
  --data-dir DIR        where cifar10's binary files are (cifar-10-batches-bin; see docs/datasets.md)
  --augment A           none | a comma list of crop:P (random crop after padding P pixels), flip (horizontal),
                        rotate:D (up to D degrees), scale:S (up to S % larger or smaller)
  --validation FILE     validation set for a FILE dataset (mnist and fashion-mnist have their split)
  --test FILE           test set for a FILE dataset
  --limit N             use only N training examples (a fixed subset): quick runs
  --model FILE          a model file with inputs x and y and a loss output
  --preset P            mlp:W1,W2,… (binary MLP of these widths) or conv[:C1,C2] (binary conv net)
  --batch-norm          presets: batch normalisation before every binary activation (the
                        default); --no-batch-norm leaves it out
  --recalibrate N       after training, re-estimate batch norm under the mode network on N
                        fixed training rows (default ${CALIBRATION_ROWS}): model.json is that deployable
                        network, model-sampling.json the trained one (for ensembles);
                        --no-recalibrate writes the trained network as model.json

gradients and updates:
  --estimator NAME      activation sites (default st; det:hardtanh under --recipe bnn):
                        ${estimatorNames}
  --weight-estimator N  weight sites (default st)
  --site ID=NAME        one site's estimator, e.g. --site layer2.act=reinforce (repeatable)
  --recipe R            md | st-gd | bnn | decay | bop: how latent weights learn (default md)
  --optimizer O         sgd | adam, the base of the recipe and of real parameters (default adam;
                        sgd under --recipe bop)
  --momentum M          SGD momentum in [0, 1)
  --lr X                learning rate (default 0.2; 0.01 under --recipe bop)
  --fan-in-lr           the real weights' rate scaled by 1/√fan-in (the head's fix; default
  --no-fan-in-lr        under --recipe md, as npm start; docs/training.md, "The head's learning rate")
  --schedule S          constant | step:<every>:<gamma> | cosine[:<total>[:<min>]] [,warmup=<w>]
                        (default cosine, constant under --recipe bop; a cosine run cannot be
                        resumed with more --epochs, a constant one can)
  --weight-sampling W   per-pass | mode (w = sign(η) in the forward pass)
  --decay λ             latent weight decay of --recipe decay
  --bop-threshold τ     --bop-gamma γ: Bop's flip threshold and averaging rate
  --anneal S            anneal every noise scale geometrically per epoch, from ×1 to ×S at the
                        last epoch (S in (0, 1); docs/training.md, "Deterministic networks")

run:
  --epochs N            (default 16)      --batch B     (default 256)    --seed S  (default 0)
  --ensemble K          ensemble size of the evaluations (default 16)
  --patience P          stop after P epochs without a better validation accuracy
  --select S            mode | ensemble: whose validation accuracy picks the best parameters and
                        drives early stopping (default mode)
  --log-every N         a log record every N steps (default 100; 0: epochs only)
  --products K          fast | reference matrix products (default fast when the host has them)
  --threads N           threads of the fast products (default: every core of this machine);
                        the results are the same bits for any N, so a resume may change it
  --parts P             data parallelism: cut each minibatch into P slices that the threads
                        share (default 1); the results depend on P, not on N (run.json keeps it)
  --out DIR             checkpoints, log.jsonl, run.json and model.json go there
  --resume DIR/checkpoint  continue a run bit-identically (settings come from DIR/run.json)
  --json                print the result as JSON
  -h, --help            print this help

exit status: 0 done; 2 bad input, or the run failed (diverged: the loss exploded or stayed
far above a guess's; a checkpoint could not be written); 130 interrupted (a checkpoint to
resume from was written first); 1 a bug of sbnkit.
`
