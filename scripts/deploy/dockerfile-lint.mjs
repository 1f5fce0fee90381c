// A small Dockerfile linter with explicit rules (hadolint is not packaged for Debian or npm without a
// binary download). It reads the instructions, follows stage inheritance (`FROM runtime AS serving`
// inherits runtime's USER and HEALTHCHECK) and checks the stages that are run as images.

const SECRET_NAME = /(TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS)/i;

/** Splits a Dockerfile into instructions: `{ line, keyword, args }`, continuation lines joined. */
export function parseDockerfile(text) {
  const instructions = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') startLine = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const [keyword = '', ...rest] = full.split(/\s+/);
    instructions.push({ line: startLine, keyword: keyword.toUpperCase(), args: rest.join(' ') });
  });
  return instructions;
}

/** Groups instructions into stages, resolving `${ARG}` defaults in FROM and stage inheritance. */
export function stagesOf(instructions) {
  const globalArgs = new Map();
  const stages = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = ins.args.split('=');
      if (value !== undefined) globalArgs.set(name, value);
      continue;
    }
    if (ins.keyword === 'FROM') {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const image = parts[0].replace(/\$\{?(\w+)\}?/g, (_, name) => globalArgs.get(name) ?? '');
      const name = parts[2];
      const parent = stages.find((s) => s.name === image);
      stages.push({ name, image, parent, line: ins.line, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push(ins);
  }
  return stages;
}

function inherited(stage, keyword) {
  for (let s = stage; s; s = s.parent) {
    const found = s.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found;
  }
  return undefined;
}

function isPinned(image) {
  if (image.includes('@sha256:')) return true;
  const tag = image.split('/').at(-1).split(':')[1];
  return tag !== undefined && tag !== 'latest' && /\d/.test(tag);
}

/**
 * Lints one Dockerfile. `targets`: the stages run as images (default: the last one);
 * `baseImage`: a pattern every external base image must match. Returns `[{ line, rule, message }]`.
 */
export function lintDockerfile(text, { targets, baseImage } = {}) {
  const problems = [];
  const report = (line, rule, message) => problems.push({ line, rule, message });
  const instructions = parseDockerfile(text);
  const stages = stagesOf(instructions);
  if (stages.length === 0) report(1, 'no-from', 'no FROM instruction');

  for (const stage of stages) {
    if (stage.parent) continue;
    if (!isPinned(stage.image)) {
      report(
        stage.line,
        'pinned-base',
        `base image "${stage.image}" must be pinned to a version tag or digest`,
      );
    }
    if (baseImage && !baseImage.test(stage.image)) {
      report(stage.line, 'base-image', `base image "${stage.image}" is not ${baseImage}`);
    }
  }
  for (const ins of instructions) {
    if (ins.keyword === 'ADD') report(ins.line, 'no-add', 'use COPY (ADD fetches URLs and unpacks archives)');
    if (ins.keyword === 'ENV' || ins.keyword === 'ARG') {
      const names = [...ins.args.matchAll(/(?:^|\s)([A-Za-z_][\w]*)(?==|\s|$)/g)].map((m) => m[1]);
      for (const name of names.filter((n) => SECRET_NAME.test(n))) {
        report(ins.line, 'no-secrets', `${ins.keyword} ${name} looks like a secret: pass it at run time`);
      }
    }
    if (ins.keyword === 'COPY' && /(^|\s|\/)\.env(\s|$)|\.pem(\s|$)|id_rsa/.test(ins.args)) {
      report(ins.line, 'no-secrets', `COPY ${ins.args} copies a secret file into the image`);
    }
    if (ins.keyword === 'RUN' && /\bnpm (install|i)\b/.test(ins.args) && !/--no-save/.test(ins.args)) {
      report(ins.line, 'npm-ci', 'install from the lockfile with `npm ci` (npm install only with --no-save)');
    }
  }
  if (/\bnpm\b/.test(text) && !instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))) {
    report(1, 'npm-ci', 'no `npm ci`: dependencies must come from the lockfile');
  }

  const wanted = targets ?? [stages.at(-1)?.name ?? '(last stage)'];
  for (const target of wanted) {
    const stage = targets ? stages.find((s) => s.name === target) : stages.at(-1);
    if (!stage) {
      report(1, 'target', `no stage named "${target}"`);
      continue;
    }
    const user = inherited(stage, 'USER');
    if (!user || /^(root|0)(:|$)/.test(user.args.trim())) {
      report(stage.line, 'non-root', `target "${target}" runs as root: add USER with a non-root user`);
    }
    const health = inherited(stage, 'HEALTHCHECK');
    if (!health || /^NONE$/i.test(health.args.trim())) {
      report(stage.line, 'healthcheck', `target "${target}" has no HEALTHCHECK`);
    }
  }
  return problems;
}
