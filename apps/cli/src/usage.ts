import { EXIT_MEANINGS } from './exit.ts';

/** Each command's usage lines: shown under an error in that command, and together as `--help`. */
export const USAGE_OF = {
  render: `  synthline render <spec.json> --out <dir> [--frames A:B] [--overwrite] [--threads N]
                  [--library DIR] [--device auto|cpu|cuda|optix|hip|metal] [--allow-cpu-fallback]`,
  verify: '  synthline verify <dir|s3://bucket/prefix>   check a dataset or a mix against its manifest',
  catalog: '  synthline catalog                           the builtin models and their colours',
  assets: '  synthline assets scan [--library DIR]       probe every library product once in Blender',
  mix: `  synthline mix --real <dir> --synthetic <dataset-dir> --ratio R:S --out <dir>
                [--seed N] [--shard-size N] [--best-effort] [--overwrite] [--dry-run]`,
  export: `  synthline export --format imagefolder|coco|yolo|crops --from <dataset-or-mix-dir> --out <dir>
                [--split-by source] [--with-labels] [--margin F] [--overwrite]`,
  evaluate: `  synthline evaluate --train <dir> --test <dir> --target class|model|color|side|<label.path> --out <dir>
                [--size 128] [--epochs N] [--seed N] [--device cpu|cuda] [--backbone small-cnn|resnet18 --weights F]
                [--suggest <spec-out.json>] [--overwrite]
  synthline evaluate sweep --real <dir> --synthetic <dataset> --test <dir> --ratios 1:0,1:1,1:5 --out <dir>
                        train a probe classifier, test it, report where it fails (needs PyTorch)`,
  demo: `  synthline demo [--spec F] [--out DIR] [--slots N|auto] [--port P]
                        a private Redis, the API and one worker; renders and verifies the quickstart`,
  up: `  synthline up [--port 8080] [--out DIR] [--slots N|auto]
                        the same service on this machine, until Ctrl-C`,
  serve: '  synthline serve       the REST API alone (configured by environment variables)',
  worker: `  synthline worker [--slots N|auto] [--doctor]
                        renders batches from the queue until SIGTERM (--doctor: check the machine first)`,
  doctor: `  synthline doctor [--json] [--render N]
                        can this machine serve? Blender, devices, Redis, storage, library,
                        and N frames on the CPU and each GPU (frames/s)`,
  submit: '  synthline submit <spec.json> [--wait] [--idempotency-key K]',
  status: '  synthline status <id>       a job: status, frames, dataset, errors',
  watch: '  synthline watch <id>        follow a job with a progress bar until it ends',
  cancel: '  synthline cancel <id>       stop a job; its partial output is removed',
  list: '  synthline list [--status S] the jobs, newest first',
  workers: '  synthline workers [--json]  the workers: live or lost, slots, devices, frames/s',
  'api-key': '  synthline api-key <name>    a new API key: the token, and the hashed entry for the server',
} as const;

const u = USAGE_OF;
export const USAGE = `synthline: synthetic training images of look-alike products, rendered with Blender

on this machine:
${u.render}
${u.verify}
${u.catalog}
${u.assets}

mixing with real photos:
${u.mix}
${u.export}

does the data help?
${u.evaluate}

the service:
${u.demo}
${u.up}
${u.serve}
${u.worker}
${u.doctor}

client of the API (--api URL, default $SYNTHLINE_API or http://127.0.0.1:8080;
--api-key TOKEN or $SYNTHLINE_API_KEY when the API has keys):
${u.submit}
${u.status}
${u.watch}
${u.cancel}
${u.list}
${u.workers}
${u['api-key']}

exit codes:
${EXIT_MEANINGS.map(([code, meaning]) => `  ${code}  ${meaning}`).join('\n')}`;

/** The usage lines of one command. */
export function usageOf(command: keyof typeof USAGE_OF): string {
  return USAGE_OF[command];
}
