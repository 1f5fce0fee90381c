import { describeCrashResume } from './crash.js';

describeCrashResume('embedded');
