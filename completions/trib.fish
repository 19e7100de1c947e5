# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_trib_global_optspecs
    string join \n a/pass= user= askpass no-auth-warning tls cacert= cacertdir= cert= key= sni= insecure json q/quiet v/verbose color= h/help V/version
end

function __fish_trib_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_trib_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_trib_using_subcommand
    set -l cmd (__fish_trib_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c trib -n "__fish_trib_needs_command" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_needs_command" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_needs_command" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_needs_command" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_needs_command" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_needs_command" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_needs_command" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_needs_command" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_needs_command" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_needs_command" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_needs_command" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_needs_command" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_needs_command" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_needs_command" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_needs_command" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c trib -n "__fish_trib_needs_command" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_needs_command" -f -a "create" -d 'Create a cluster from empty nodes'
complete -c trib -n "__fish_trib_needs_command" -f -a "check" -d 'Check the cluster: slot agreement, open slots, coverage, unreachable nodes'
complete -c trib -n "__fish_trib_needs_command" -f -a "info" -d 'Print each master\'s keys, slots and replicas'
complete -c trib -n "__fish_trib_needs_command" -f -a "fix" -d 'Repair open slots, uncovered slots and multiple owners'
complete -c trib -n "__fish_trib_needs_command" -f -a "reshard" -d 'Move slots from some masters to another'
complete -c trib -n "__fish_trib_needs_command" -f -a "rebalance" -d 'Even out slots across masters by weight'
complete -c trib -n "__fish_trib_needs_command" -f -a "add-node" -d 'Add a node as an empty master or as a replica'
complete -c trib -n "__fish_trib_needs_command" -f -a "del-node" -d 'Remove a node (it must own no slots)'
complete -c trib -n "__fish_trib_needs_command" -f -a "call" -d 'Run a command on every node'
complete -c trib -n "__fish_trib_needs_command" -f -a "set-timeout" -d 'Set cluster-node-timeout on every node'
complete -c trib -n "__fish_trib_needs_command" -f -a "import" -d 'Import keys from a standalone Redis into the cluster'
complete -c trib -n "__fish_trib_needs_command" -f -a "backup" -d 'Save every master\'s RDB and the cluster layout to a directory'
complete -c trib -n "__fish_trib_needs_command" -f -a "restore" -d 'Load a backup into a cluster of any shape (each key goes to its slot\'s owner now)'
complete -c trib -n "__fish_trib_needs_command" -f -a "failover" -d 'Promote a replica to master (CLUSTER FAILOVER) and wait until the cluster agrees'
complete -c trib -n "__fish_trib_needs_command" -f -a "sandbox" -d 'Start a local cluster and keep it running until Ctrl-C'
complete -c trib -n "__fish_trib_needs_command" -f -a "demo" -d 'Run a short tour of trib on a local trib-node cluster'
complete -c trib -n "__fish_trib_needs_command" -f -a "generate" -d 'Write shell completions and man pages (used to refresh completions/ and man/)'
complete -c trib -n "__fish_trib_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c trib -n "__fish_trib_using_subcommand create" -l replicas -d 'Replicas per master' -r
complete -c trib -n "__fish_trib_using_subcommand create" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand create" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand create" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand create" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand create" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand create" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand create" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand create" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand create" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand create" -l dry-run -d 'Print the plan and change nothing'
complete -c trib -n "__fish_trib_using_subcommand create" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand create" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand create" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand create" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand create" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand create" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand create" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand create" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand create" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand check" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand check" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand check" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand check" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand check" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand check" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand check" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand check" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand check" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand check" -l search-multiple-owners -d 'Also look for slots with keys on more than one master'
complete -c trib -n "__fish_trib_using_subcommand check" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand check" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand check" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand check" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand check" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand check" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand check" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand check" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand check" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand info" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand info" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand info" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand info" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand info" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand info" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand info" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand info" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand info" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand info" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand info" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand info" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand info" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand info" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand info" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand info" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand info" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand info" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand fix" -l timeout -d 'MIGRATE timeout in milliseconds' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l pipeline -d 'Keys per MIGRATE batch (default chosen by trib)' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l parallel -d 'Most source-target moves in flight at once' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand fix" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand fix" -l search-multiple-owners
complete -c trib -n "__fish_trib_using_subcommand fix" -l fix-with-unreachable-masters -d 'Fix even when some masters are unreachable'
complete -c trib -n "__fish_trib_using_subcommand fix" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand fix" -l dry-run -d 'Print the repair plan and change nothing'
complete -c trib -n "__fish_trib_using_subcommand fix" -l replace -d 'Replace keys that already exist on the target (BUSYKEY)'
complete -c trib -n "__fish_trib_using_subcommand fix" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand fix" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand fix" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand fix" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand fix" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand fix" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand fix" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand fix" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand fix" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand reshard" -l from -d 'Source node ids, comma separated, or `all`' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l to -d 'Target node id' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l slots -d 'Number of slots to move' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l timeout -d 'MIGRATE timeout in milliseconds' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l pipeline -d 'Keys per MIGRATE batch (default chosen by trib)' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l parallel -d 'Most source-target moves in flight at once' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand reshard" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand reshard" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand reshard" -l dry-run -d 'Print the plan and change nothing'
complete -c trib -n "__fish_trib_using_subcommand reshard" -l replace -d 'Replace keys that already exist on the target (BUSYKEY)'
complete -c trib -n "__fish_trib_using_subcommand reshard" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand reshard" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand reshard" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand reshard" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand reshard" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand reshard" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand reshard" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand reshard" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand reshard" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l weight -d 'Node weights as id=weight (id prefixes allowed); weight 0 drains a node' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l threshold -d 'Only rebalance when a node is off its share by more than this percentage' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l timeout -d 'MIGRATE timeout in milliseconds' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l pipeline -d 'Keys per MIGRATE batch (default chosen by trib)' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l parallel -d 'Most source-target moves in flight at once' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l use-empty-masters -d 'Give slots to masters that have none'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l simulate -l dry-run -d 'Print the plan and change nothing'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l replace -d 'Replace keys that already exist on the target (BUSYKEY)'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand rebalance" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand add-node" -l master-id -d 'The master to replicate (default: the master with the fewest replicas)' -r
complete -c trib -n "__fish_trib_using_subcommand add-node" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand add-node" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand add-node" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand add-node" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand add-node" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand add-node" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand add-node" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand add-node" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand add-node" -l replica -l slave -d 'Add as a replica'
complete -c trib -n "__fish_trib_using_subcommand add-node" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand add-node" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand add-node" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand add-node" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand add-node" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand add-node" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand add-node" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand add-node" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand add-node" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand add-node" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand del-node" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand del-node" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand del-node" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand del-node" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand del-node" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand del-node" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand del-node" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand del-node" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand del-node" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand del-node" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand del-node" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand del-node" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand del-node" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand del-node" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand del-node" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand del-node" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand del-node" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand del-node" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand call" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand call" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand call" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand call" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand call" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand call" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand call" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand call" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand call" -l only-masters -d 'Run on masters only'
complete -c trib -n "__fish_trib_using_subcommand call" -l only-replicas -d 'Run on replicas only'
complete -c trib -n "__fish_trib_using_subcommand call" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand call" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand call" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand call" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand call" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand call" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand call" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand call" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand call" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand call" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand set-timeout" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand import" -l from -d 'The standalone source instance' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l from-user -d 'ACL user name on the source (the cluster\'s is --user)' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l from-pass -d 'Password of the source (the cluster\'s is -a; MIGRATE logs in to the cluster with that)' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l timeout -d 'MIGRATE timeout in milliseconds' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l pipeline -d 'Keys per MIGRATE batch (default chosen by trib)' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l parallel -d 'Most source-target moves in flight at once' -r
complete -c trib -n "__fish_trib_using_subcommand import" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand import" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand import" -l from-askpass -d 'Prompt for the source\'s password on the terminal'
complete -c trib -n "__fish_trib_using_subcommand import" -l copy -d 'Copy keys instead of moving them (the source keeps everything)'
complete -c trib -n "__fish_trib_using_subcommand import" -l replace -d 'Replace keys that already exist on the target (BUSYKEY)'
complete -c trib -n "__fish_trib_using_subcommand import" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand import" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand import" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand import" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand import" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand import" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand import" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand import" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand import" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand import" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand backup" -l timeout -d 'Give up on a master that sends nothing for this long, in milliseconds' -r
complete -c trib -n "__fish_trib_using_subcommand backup" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand backup" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand backup" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand backup" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand backup" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand backup" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand backup" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand backup" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand backup" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand backup" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand backup" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand backup" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand backup" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand backup" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand backup" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand backup" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand backup" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand backup" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand restore" -l timeout -d 'Reply timeout for each batch of RESTOREs, in milliseconds' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -l pipeline -d 'RESTOREs sent to a master per round trip' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand restore" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand restore" -l replace -d 'Overwrite keys that already exist in the cluster (else they are reported and kept)'
complete -c trib -n "__fish_trib_using_subcommand restore" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand restore" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand restore" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand restore" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand restore" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand restore" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand restore" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand restore" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand restore" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand restore" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand failover" -l replica -d 'The replica to promote (node id, id prefix, or host:port)' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l master -d 'Promote the best replica of this master (node id, id prefix, or host:port)' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l timeout -d 'How long to wait for the cluster to agree on the new master, in milliseconds' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand failover" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand failover" -l force -d 'Fail over without the master\'s agreement (it may be down); may lose writes'
complete -c trib -n "__fish_trib_using_subcommand failover" -l takeover -d 'Take the slots without an election (no majority needed); may lose writes'
complete -c trib -n "__fish_trib_using_subcommand failover" -s y -l yes -d 'Do not ask for confirmation (also REDISCLI_CLUSTER_YES=1)'
complete -c trib -n "__fish_trib_using_subcommand failover" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand failover" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand failover" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand failover" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand failover" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand failover" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand failover" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand failover" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand failover" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l masters -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l replicas -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l port -d 'First port (default: free ports)' -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l server -d 'Which server to run' -r -f -a "trib-node\t''
redis-server\t''"
complete -c trib -n "__fish_trib_using_subcommand sandbox" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand sandbox" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand demo" -l server -d 'Which server to run the demo on' -r -f -a "trib-node\t''
redis-server\t''"
complete -c trib -n "__fish_trib_using_subcommand demo" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand demo" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand demo" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand demo" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand demo" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand demo" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand demo" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand demo" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand demo" -l keep -d 'Keep the cluster\'s files after the demo'
complete -c trib -n "__fish_trib_using_subcommand demo" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand demo" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand demo" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand demo" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand demo" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand demo" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand demo" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand demo" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand demo" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand generate" -s a -l pass -d 'Password for every node (AUTH); prefer REDISCLI_AUTH or --askpass' -r
complete -c trib -n "__fish_trib_using_subcommand generate" -l user -d 'ACL user name (AUTH <user> <pass>)' -r
complete -c trib -n "__fish_trib_using_subcommand generate" -l cacert -d 'CA certificate file to verify the servers with (default: the system\'s CAs)' -r
complete -c trib -n "__fish_trib_using_subcommand generate" -l cacertdir -d 'Directory of CA certificates (every PEM file in it)' -r
complete -c trib -n "__fish_trib_using_subcommand generate" -l cert -d 'Client certificate file, for servers that require one (with --key)' -r
complete -c trib -n "__fish_trib_using_subcommand generate" -l key -d 'Client private key file' -r
complete -c trib -n "__fish_trib_using_subcommand generate" -l sni -d 'Server name to send (SNI) and to verify the certificates against, instead of each node\'s address' -r
complete -c trib -n "__fish_trib_using_subcommand generate" -l color -d 'When to colour output' -r -f -a "auto\t''
always\t''
never\t''"
complete -c trib -n "__fish_trib_using_subcommand generate" -l askpass -d 'Prompt for the password on the terminal (overrides -a and REDISCLI_AUTH)'
complete -c trib -n "__fish_trib_using_subcommand generate" -l no-auth-warning -d 'Do not warn that -a on the command line may be unsafe'
complete -c trib -n "__fish_trib_using_subcommand generate" -l tls -d 'Connect with TLS (implied by any other TLS option)'
complete -c trib -n "__fish_trib_using_subcommand generate" -l insecure -d 'Do not verify the server certificates (encrypted but not authenticated)'
complete -c trib -n "__fish_trib_using_subcommand generate" -l json -d 'Print one JSON document on stdout (events as NDJSON for long operations)'
complete -c trib -n "__fish_trib_using_subcommand generate" -s q -l quiet -d 'Print only errors'
complete -c trib -n "__fish_trib_using_subcommand generate" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c trib -n "__fish_trib_using_subcommand generate" -s h -l help -d 'Print help'
complete -c trib -n "__fish_trib_using_subcommand generate" -s V -l version -d 'Print version'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "create" -d 'Create a cluster from empty nodes'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "check" -d 'Check the cluster: slot agreement, open slots, coverage, unreachable nodes'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "info" -d 'Print each master\'s keys, slots and replicas'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "fix" -d 'Repair open slots, uncovered slots and multiple owners'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "reshard" -d 'Move slots from some masters to another'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "rebalance" -d 'Even out slots across masters by weight'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "add-node" -d 'Add a node as an empty master or as a replica'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "del-node" -d 'Remove a node (it must own no slots)'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "call" -d 'Run a command on every node'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "set-timeout" -d 'Set cluster-node-timeout on every node'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "import" -d 'Import keys from a standalone Redis into the cluster'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "backup" -d 'Save every master\'s RDB and the cluster layout to a directory'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "restore" -d 'Load a backup into a cluster of any shape (each key goes to its slot\'s owner now)'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "failover" -d 'Promote a replica to master (CLUSTER FAILOVER) and wait until the cluster agrees'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "sandbox" -d 'Start a local cluster and keep it running until Ctrl-C'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "demo" -d 'Run a short tour of trib on a local trib-node cluster'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "generate" -d 'Write shell completions and man pages (used to refresh completions/ and man/)'
complete -c trib -n "__fish_trib_using_subcommand help; and not __fish_seen_subcommand_from create check info fix reshard rebalance add-node del-node call set-timeout import backup restore failover sandbox demo generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
