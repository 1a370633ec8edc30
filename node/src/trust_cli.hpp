// The IT admin's commands for enrolling nodes and watching replication
// (docs/operations.md, "Enrolling nodes"):
//
//   wardnode authority create --out DIR
//   wardnode cert request|issue|install|revoke|show ...
//   wardnode peer add --dir NODEDIR ENDPOINT PUBKEY
//   wardnode status --dir DIR
//
// Each returns the process exit code (0 done, 1 failed, 2 usage) and prints its
// own --help. They touch files only (never a running node's store), so they
// work beside a running node: it picks up trust files within a few seconds.
#pragma once

namespace wardsync::node {

int cmd_authority(int argc, char** argv);
int cmd_cert(int argc, char** argv);
int cmd_peer(int argc, char** argv);
int cmd_status(int argc, char** argv);

}  // namespace wardsync::node
