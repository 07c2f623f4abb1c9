#!/usr/bin/env node
'use strict';
// The installed `mailferry` command (package.json "bin"). The CLI is TypeScript, run through tsx like the rest of
// the project: register tsx's CommonJS loader, then load the entry point.
require('tsx/cjs/api').register();
require('./main.ts');
