/** The fedlearn release this code belongs to (kept equal to the packages' version by a test). */
export const FEDLEARN_VERSION = '0.1.0';
