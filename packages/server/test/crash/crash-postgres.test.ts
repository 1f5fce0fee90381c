import { describeCrashResume } from './crash.js';

describeCrashResume('postgres');
