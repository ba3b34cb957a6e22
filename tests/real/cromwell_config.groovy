// Loads the configuration as Cromwell does, with Typesafe Config's ConfigFactory.load() (the file of the JVM's
// -Dconfig.file, given in JAVA_OPTS), and prints what Cromwell's AWS Batch backend reads from it, through the same
// typed getters, as JSON. `include required(classpath("application"))` resolves only with an application.conf on
// the classpath.
import com.typesafe.config.ConfigFactory
import groovy.json.JsonOutput

def config = ConfigFactory.load()
def backend = config.getConfig("backend.providers.AWSBatch.config")
def attributes = backend.getConfig("default-runtime-attributes")
println JsonOutput.toJson([
    "aws.region": config.getString("aws.region"),
    "aws.auths": config.getConfigList("aws.auths").collect { [name: it.getString("name"), scheme: it.getString("scheme")] },
    "backend.default": config.getString("backend.default"),
    "actor-factory": config.getString("backend.providers.AWSBatch.actor-factory"),
    "root": backend.getString("root"),
    "tagResources": backend.getBoolean("tagResources"),
    "queueArn": attributes.getString("queueArn"),
    "scriptBucketName": attributes.getString("scriptBucketName"),
    "logGroupName": attributes.getString("logGroupName"),
    "awsBatchRetryAttempts": attributes.getInt("awsBatchRetryAttempts"),
    "awsBatchEvaluateOnExit": attributes.getConfigList("awsBatchEvaluateOnExit").collect { it.root().unwrapped() },
    "default-runtime-attributes": attributes.root().keySet().sort(),
])
