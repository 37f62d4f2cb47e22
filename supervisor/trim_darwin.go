package supervisor

import "runtime/debug"

// trimMemory hands the garbage of the supervisor's start-up back to the
// system. (On Linux it also drops the supervisor's page-table entries for
// its executable; macOS accounts shared text differently.)
func trimMemory() { debug.FreeOSMemory() }
