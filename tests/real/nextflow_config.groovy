// Reads every *.config file of the directory args[0] with Groovy's ConfigSlurper (the parser Nextflow's own
// config parser was built on) and prints {file name: {dotted key: value}} as JSON: one JVM for all of them.
import groovy.json.JsonOutput

def read = [:]
new File(args[0]).eachFileMatch(~/.*\.config/) { file ->
    def flat = new ConfigSlurper().parse(file.toURI().toURL()).flatten()
    read[file.name] = flat.collectEntries { key, value -> [key, value instanceof Number ? value : value.toString()] }
}
println JsonOutput.toJson(read)
