// History files for replay tests: `{ workflowId, history }` as JSON, the history in protobufjs's object form
// (`toObject` with longs, enums and bytes as strings), read back with `fromObject`. The workflow id is kept
// because replay needs it: child workflow ids are built from it.
//
// Why not the SDK's historyToJSON/historyFromJSON (the `temporal workflow show -o json` format)? In this install
// @temporalio/common and @temporalio/proto each carry their own copy of protobufjs 8 (the root has protobufjs 7
// for @grpc/proto-loader), and protojson's `instanceof Type` check fails across the copies: both throw
// "type must be a Type". Both directions here go through @temporalio/proto's own History type.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';

const { temporal } = proto;

type History = proto.temporal.api.history.v1.History;
const HistoryType = temporal.api.history.v1.History;

export interface HistoryFile {
  workflowId: string;
  history: History;
}

export function historyFileText(workflowId: string, history: proto.temporal.api.history.v1.IHistory): string {
  const obj = HistoryType.toObject(HistoryType.fromObject(history), { longs: String, enums: String, bytes: String });
  return JSON.stringify({ workflowId, history: obj }, null, 1) + '\n';
}

export function readHistoryFile(file: string): HistoryFile {
  const { workflowId, history } = JSON.parse(readFileSync(file, 'utf8')) as { workflowId: string; history: unknown };
  return { workflowId, history: HistoryType.fromObject(history as Record<string, unknown>) };
}

/** Every `*.json` history file in a folder, by file name. */
export function historiesIn(dir: string): Array<HistoryFile & { name: string }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, ...readHistoryFile(path.join(dir, f)) }));
}
