import type { Handler } from '../types.js';
import { Status } from '../../wire/status.js';

export const handler: Handler = async () => ({ status: Status.NOT_IMPLEMENTED });
