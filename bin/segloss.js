#!/usr/bin/env node
// The `segloss` command; see src/cli/main.ts.
import '../dist/cli.js';
