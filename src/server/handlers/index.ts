// Command -> handler table (one module per command, DESIGN.md "Server request path").
import type { Handler } from '../types.js';
import { Command } from '../../wire/constants.js';
import { handler as negotiate } from './negotiate.js';
import { handler as sessionSetup } from './session-setup.js';
import { handler as logoff } from './logoff.js';
import { handler as treeConnect } from './tree-connect.js';
import { handler as treeDisconnect } from './tree-disconnect.js';
import { handler as create } from './create.js';
import { handler as close } from './close.js';
import { handler as flush } from './flush.js';
import { handler as read } from './read.js';
import { handler as write } from './write.js';
import { handler as lock } from './lock.js';
import { handler as ioctl } from './ioctl.js';
import { handler as cancel } from './cancel.js';
import { handler as echo } from './echo.js';
import { handler as queryDirectory } from './query-directory.js';
import { handler as changeNotify } from './change-notify.js';
import { handler as queryInfo } from './query-info.js';
import { handler as setInfo } from './set-info.js';
import { handler as oplockBreak } from './oplock-break.js';

export const handlers: Readonly<Record<number, Handler | undefined>> = {
  [Command.NEGOTIATE]: negotiate,
  [Command.SESSION_SETUP]: sessionSetup,
  [Command.LOGOFF]: logoff,
  [Command.TREE_CONNECT]: treeConnect,
  [Command.TREE_DISCONNECT]: treeDisconnect,
  [Command.CREATE]: create,
  [Command.CLOSE]: close,
  [Command.FLUSH]: flush,
  [Command.READ]: read,
  [Command.WRITE]: write,
  [Command.LOCK]: lock,
  [Command.IOCTL]: ioctl,
  [Command.CANCEL]: cancel,
  [Command.ECHO]: echo,
  [Command.QUERY_DIRECTORY]: queryDirectory,
  [Command.CHANGE_NOTIFY]: changeNotify,
  [Command.QUERY_INFO]: queryInfo,
  [Command.SET_INFO]: setInfo,
  [Command.OPLOCK_BREAK]: oplockBreak,
};
