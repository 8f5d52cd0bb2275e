#!/usr/bin/env node
// The `missive` command: runs the compiled CLI (npm install builds it through `prepare`).
import '../dist/cli/main.js';
