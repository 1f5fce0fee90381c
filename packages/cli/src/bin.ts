#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { isFedlearnError } from '@fedlearn/core';
import { CLIENT_HELP, runClientCommand } from './commands/client.js';
import { DEMO_HELP, runDemoCommand } from './commands/demo.js';
import { ENROLL_HELP, runEnrollCommand } from './commands/enroll.js';
import { EXPERIMENT_HELP, runExperimentCommand } from './commands/experiment.js';
import type { CommandIo } from './commands/io.js';
import { runModelsCommand } from './commands/models.js';
import { PREDICT_HELP, runPredictCommand } from './commands/predict.js';
import { runServeCommand, SERVE_HELP } from './commands/serve.js';
import { runServerCommand, SERVER_HELP } from './commands/server.js';
import { runStatusCommand, STATUS_HELP } from './commands/status.js';

const HELP = `fedlearn — federated learning in TypeScript

Usage: fedlearn <command> [options]

Commands:
  demo      a complete federated training on MNIST with N local client processes
  experiment  run a grid (partitions × strategies × secagg × DP × seeds) and write a report
  server    run a coordinator
  status    what a running coordinator is doing: clients, jobs, rounds (control API)
  client    run one client against a coordinator
  enroll    enroll a client (identity key and credential) with a coordinator
  models    list, show and promote registered model versions
  predict   predict JSONL/CSV files offline with a registered model
  serve     serve the champion model over REST, GraphQL and gRPC (hot swap, batching)
  help      show help for a command (fedlearn help demo)

Run \`fedlearn <command> --help\` for a command's options.
`;

const HELPS: Record<string, string> = {
  demo: DEMO_HELP,
  experiment: EXPERIMENT_HELP,
  server: SERVER_HELP,
  status: STATUS_HELP,
  client: CLIENT_HELP,
  enroll: ENROLL_HELP,
  predict: PREDICT_HELP,
  serve: SERVE_HELP,
};

async function main(argv: string[]): Promise<number> {
  const io: CommandIo = {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  };
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return runDemoCommand(rest, io, fileURLToPath(import.meta.url));
    case 'experiment':
      return runExperimentCommand(rest, io, fileURLToPath(import.meta.url));
    case 'server':
      return runServerCommand(rest, io);
    case 'status':
      return runStatusCommand(rest, io);
    case 'client':
      return runClientCommand(rest, io);
    case 'enroll':
      return runEnrollCommand(rest, io);
    case 'models':
      return runModelsCommand(rest, io);
    case 'serve':
      return runServeCommand(rest, io);
    case 'predict':
      return runPredictCommand(rest, io, Boolean(process.stderr.isTTY) && io.env.CI === undefined);
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      io.stdout(HELPS[rest[0] ?? ''] ?? HELP);
      return 0;
    default:
      io.stderr(`fedlearn: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isFedlearnError(error)) {
      process.stderr.write(`fedlearn: ${error.code}: ${error.message}\n`);
    } else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`fedlearn: ${error.message}\nRun \`fedlearn help\` for usage.\n`);
    } else {
      process.stderr.write(`fedlearn: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.exitCode =
      error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  },
);
