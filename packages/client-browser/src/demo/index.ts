export { type DemoSession, type DemoState, decodeDigitSlice, encodeDigitSlice } from './api.js';
export { demoPageHtml } from './page.js';
