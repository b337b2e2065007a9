#!/usr/bin/env node
// The installed command runs the compiled CLI; `npm install` builds it (the `prepare` script).
import { exitQuietlyOnBrokenPipe } from '../dist/cli/io.js';
import { main } from '../dist/cli/main.js';

exitQuietlyOnBrokenPipe(process.stdout);
process.exitCode = await main(process.argv);
